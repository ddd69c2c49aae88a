"""The examples in docs/open311.md and docs/api.md run against a live gunicorn.

An example is a ```http block (a request: method and path, then headers, a blank
line and a form or JSON body) followed by a ```json or ```xml block (the answer: its
status on the first line as `HTTP 200`, then the body). Placeholders in requests:
{api_key} (an Open311 and API key of the test city's client), {app_key} (an API key
acting as the town's dispatcher), and any field of an earlier answer ({token},
{service_request_id}, {number}). In an answer, the string "…" stands for any value;
every other value, every key and the order of keys must be as shown, and a list shown
with items must have at least as many; the rest of a longer list is not compared.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.live import call

pytestmark = pytest.mark.slow
DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"```(http|json|xml)\n(.*?)```", re.S)


def examples(name: str) -> list[tuple[str, str, str]]:
    """(request, answer kind, answer) in the order the document shows them."""
    blocks = BLOCK.findall((DOCS / name).read_text())
    found = []
    for (kind, text), (answer_kind, answer) in zip(blocks, blocks[1:], strict=False):
        if kind == "http" and answer_kind in ("json", "xml"):
            found.append((text, answer_kind, answer))
    return found


def like(expected, actual, where="") -> None:
    if expected == "…":
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        assert list(actual) == list(expected), f"{where}: keys {list(actual)}"
        for key, value in expected.items():
            like(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) >= len(expected), where
        for i, value in enumerate(expected):
            like(value, actual[i], f"{where}[{i}]")
    else:
        assert expected == actual, f"{where}: {actual!r} != {expected!r}"


def xml_like(expected: ElementTree.Element, actual: ElementTree.Element, where="") -> None:
    assert expected.tag == actual.tag, where
    if len(expected):
        assert len(actual) >= len(expected), where
        for e, a in zip(expected, actual, strict=False):
            xml_like(e, a, f"{where}/{e.tag}")
    elif (expected.text or "") != "…":
        assert (expected.text or "") == (actual.text or ""), f"{where}: {actual.text!r}"


def run(live, name: str, **more: str) -> int:
    values = {"api_key": live.key, "app_key": live.api_key, **more}
    done = 0
    for request, kind, answer in examples(name):
        text = request
        for key, value in values.items():
            text = text.replace("{" + key + "}", str(value))
        head, _sep, body = text.partition("\n\n")
        first, *header_lines = head.strip().splitlines()
        method, path = first.split(" ", 1)
        headers = dict(line.split(": ", 1) for line in header_lines)
        data = None
        json_body = None
        if body.strip():
            if headers.get("Content-Type") == "application/json":
                json_body = json.loads(body)
                headers.pop("Content-Type")
            else:
                data = [tuple(p.split("=", 1)) for p in body.strip().split("&")]
                headers.pop("Content-Type", None)
        got = call(live.url + path, method, data=data, json_body=json_body, headers=headers)
        status_line, _sep, shown = answer.partition("\n")
        assert got.status == int(status_line.split()[1]), (first, got.status, got.body[:300])
        if kind == "json":
            actual = got.json
            like(json.loads(shown), actual, first)
            # Placeholders come from the first item of an answer (the newest).
            for item in (actual[:1] if isinstance(actual, list) else [actual]):
                if isinstance(item, dict):
                    values.update({k: v for k, v in item.items() if isinstance(v, str)})
                    for inner in item.get("items", []) if isinstance(item.get("items"), list) \
                            else []:
                        values.setdefault("number", inner.get("number", ""))
        else:
            xml_like(ElementTree.fromstring(shown.strip()), got.xml, first)
        done += 1
    return done


def test_api_examples(live_city, django_db_blocker) -> None:
    from linge.cases import intake
    from linge.cases.models import Source
    from linge.clients import keys
    from linge.clients.models import Channel

    city = live_city.city
    with django_db_blocker.unblock():
        intake.submit(city["resident"], Source.RESIDENT_PAGE, intake.Report(
            category=city.category, description="村口垃圾桶满了", grid=city.grid,
            lon=121.305, lat=28.305, address="上墩村12号"))
        grid_key = keys.create("grid app", channels=[Channel.API],
                               user=city["grid_leader"]).key
        resident_key = keys.create("resident app", channels=[Channel.API],
                                   user=city["resident"]).key
    assert run(live_city, "api.md", grid_key=grid_key, resident_key=resident_key) >= 6


def test_open311_examples(live_city) -> None:
    # After the API's examples: its requests are the newest in the grid's inbox.
    assert run(live_city, "open311.md") >= 8
