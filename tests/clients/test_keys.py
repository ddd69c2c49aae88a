"""API keys: made per client by an administrator, shown once, stored hashed, revocable,
with channels and a rate of their own."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linge.clients import keys, limits
from linge.clients.models import ApiKey, Channel

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("apikey", *args, stdout=out)
    return out.getvalue()


def test_create_prints_the_key_alone_on_its_last_line(city) -> None:
    output = run("create", "城管通", "--channels", "open311,api", "--rate", "120",
                 "--user", "dispatcher")
    key = output.strip().splitlines()[-1]
    assert key.startswith("lg_") and " " not in key
    row = ApiKey.objects.get(name="城管通")
    assert key not in str(row.__dict__)  # only the hash is kept
    assert row.channel_list == ["open311", "api"] and row.rate_per_minute == 120
    assert row.user == city["dispatcher"]
    assert keys.authenticate(key, Channel.API) == row


def test_list_and_revoke() -> None:
    key = run("create", "app").strip().splitlines()[-1]
    assert "app\t" in run("list") and "live" in run("list")
    run("revoke", "app")
    assert "revoked" in run("list")
    with pytest.raises(keys.KeyRefused):
        keys.authenticate(key, Channel.OPEN311)


def test_command_refusals() -> None:
    run("create", "twice")
    with pytest.raises(CommandError):
        run("create", "twice")
    with pytest.raises(CommandError):
        run("create", "bad", "--channels", "ftp")
    with pytest.raises(CommandError):
        run("create", "who", "--user", "nobody")
    with pytest.raises(CommandError):
        run("revoke", "missing")


def test_channel_and_rate() -> None:
    made = keys.create("one", channels=[Channel.OPEN311], rate_per_minute=2)
    with pytest.raises(keys.KeyRefused):
        keys.authenticate(made.key, Channel.API)
    keys.authenticate(made.key, Channel.OPEN311)
    keys.authenticate(made.key, Channel.OPEN311)
    with pytest.raises(limits.Throttled):
        keys.authenticate(made.key, Channel.OPEN311)
    for wrong in ["", "lg_", made.key[:-1] + "x", "x" * 500, "lg_ключ_x"]:
        assert keys.find(wrong) is None


def test_admin_makes_a_key_and_shows_it_once(client, city) -> None:
    client.force_login(city["admin"])
    response = client.post("/admin/clients/apikey/add/", {
        "name": "网格通", "rate_per_minute": "60", "channel_choices": ["open311"],
    }, follow=True)
    assert response.status_code == 200
    row = ApiKey.objects.get(name="网格通")
    shown = [str(m) for m in response.context["messages"]]
    assert any(row.prefix in m and "lg_" in m for m in shown)
    key = next(m for m in shown if "lg_" in m).split("：")[-1].strip()
    assert keys.find(key) == row
