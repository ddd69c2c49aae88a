"""linge/net.py: which address a request comes from."""

from __future__ import annotations

from ipaddress import ip_network

from django.test import RequestFactory, override_settings

from linge.net import client_ip

PROXIES = [ip_network("10.0.0.0/8"), ip_network("fd00::/8")]


def request(remote: str | None, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote} if remote else {}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    req = RequestFactory().get("/")
    if remote is None:
        req.META.pop("REMOTE_ADDR", None)
    req.META.update(meta)
    return req


@override_settings(LINGE_TRUSTED_PROXIES=[])
def test_without_trusted_proxies_only_the_peer_counts() -> None:
    assert client_ip(request("203.0.113.1", "198.51.100.1")) == "203.0.113.1"
    assert client_ip(request(None)) is None


@override_settings(LINGE_TRUSTED_PROXIES=PROXIES)
def test_trusted_hops_are_walked_from_the_right() -> None:
    # The client may prepend anything; what our proxies appended is what counts.
    assert client_ip(request("10.0.0.2", "1.2.3.4, 198.51.100.1")) == "198.51.100.1"
    assert client_ip(request("10.0.0.2", "198.51.100.1, 10.1.1.1")) == "198.51.100.1"
    assert client_ip(request("fd00::2", "2001:db8::5")) == "2001:db8::5"
    # An untrusted peer's header is ignored.
    assert client_ip(request("203.0.113.1", "198.51.100.1")) == "203.0.113.1"


@override_settings(LINGE_TRUSTED_PROXIES=PROXIES)
def test_garbage_never_passes_as_an_address() -> None:
    assert client_ip(request("10.0.0.2", "")) == "10.0.0.2"
    assert client_ip(request("10.0.0.2", "not-an-ip")) == "10.0.0.2"
    assert client_ip(request("10.0.0.2", "198.51.100.1, junk, 10.1.1.1")) == "10.1.1.1"


@override_settings(LINGE_TRUSTED_PROXIES=PROXIES)
def test_ports_and_mapped_addresses() -> None:
    assert client_ip(request("10.0.0.2", "198.51.100.1:5678")) == "198.51.100.1"
    assert client_ip(request("10.0.0.2", "[2001:db8::5]:443")) == "2001:db8::5"
    # A dual-stack socket reports an IPv4 proxy as ::ffff:10.0.0.2.
    assert client_ip(request("::ffff:10.0.0.2", "198.51.100.1")) == "198.51.100.1"
