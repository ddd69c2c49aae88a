"""SMS senders against a real HTTP server on loopback; each key is delivered once."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from linge.notify.models import Delivery
from linge.notify.senders import ConsoleSender, HttpGatewaySender, SendFailed


class Gateway:
    """A tiny SMS gateway that records what it receives and can be told to fail."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, dict]] = []
        self.fail = False
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.received.append((body, dict(self.headers)))
                self.send_response(503 if gateway.fail else 200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    gw = Gateway()
    yield gw
    gw.close()


def test_console_sender_sends_each_key_once(db, caplog) -> None:
    sender = ConsoleSender()
    with caplog.at_level("INFO", logger="linge.sms"):
        assert sender.send("13900000001", "您的验证码是 123456", "otp:1") is True
        assert sender.send("13900000001", "您的验证码是 123456", "otp:1") is False
    assert Delivery.objects.filter(key="otp:1").count() == 1
    assert caplog.text.count("123456") == 1


def test_http_gateway_receives_key_and_token(db, gateway: Gateway) -> None:
    sender = HttpGatewaySender(gateway.url, "secret-token")
    assert sender.send("13900000001", "问题已受理", "42:7:sms") is True
    assert sender.send("13900000001", "问题已受理", "42:7:sms") is False
    assert len(gateway.received) == 1
    body, headers = gateway.received[0]
    assert body == {"phone": "13900000001", "text": "问题已受理", "key": "42:7:sms"}
    assert headers["Idempotency-Key"] == "42:7:sms"
    assert headers["Authorization"] == "Bearer secret-token"


def test_http_gateway_failure_records_nothing(db, gateway: Gateway) -> None:
    gateway.fail = True
    with pytest.raises(SendFailed, match="503"):
        HttpGatewaySender(gateway.url, "t").send("139", "x", "k1")
    assert not Delivery.objects.exists()


def test_unreachable_gateway(db) -> None:
    with pytest.raises(SendFailed, match="不可用"):
        HttpGatewaySender("http://127.0.0.1:9/none", "t", timeout=2).send("139", "x", "k2")
