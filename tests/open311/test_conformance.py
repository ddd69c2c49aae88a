"""GeoReport v2 conformance against a live gunicorn (2 processes) over the test database.

Expected answers are written by hand from the specification (GeoReport v2): the paths
with a format extension, JSON arrays at the top level (a single request too), XML
element names without namespaces, ids and codes as strings, W3C datetimes with an
offset, errors as a list of {code, description} with 400, 403 and 404, and empty
parameters treated as absent. What this server adds or decides is in docs/open311.md.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from PIL import Image

from tests.live import call

pytestmark = pytest.mark.slow

W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
NUMBER = re.compile(r"^\d{8}-\d+$")
# In grid A1a (上墩村第1网格): the test city's grids are 0.01° squares from 121.3E 28.3N.
INSIDE = {"lat": "28.305", "long": "121.305"}
NOWHERE = {"lat": "39.9", "long": "116.4"}  # Beijing: no grid of ours


@pytest.fixture(scope="module")
def live(live_city, django_db_blocker):
    from linge.open311.models import ServiceAttribute

    with django_db_blocker.unblock():
        ServiceAttribute.objects.create(
            category=live_city.city.plain, code="size", description="堆放面积",
            datatype="singlevaluelist", required=True, order=1,
            choices="small=小于1平方米\nlarge=1平方米以上")
        ServiceAttribute.objects.create(
            category=live_city.city.plain, code="since", description="发现时间",
            datatype="datetime", required=False, order=2)
    return live_city


def v2(live, path: str) -> str:
    return f"{live.url}/open311/v2/{path}"


def cases_count(django_db_blocker) -> int:
    from linge.cases.models import Case

    with django_db_blocker.unblock():
        return Case.objects.count()


def post(live, fmt="json", *, key=True, files=None, **fields):
    data = {"service_code": "0101", "description": "路口垃圾堆了三天", **INSIDE, **fields}
    if key:
        data.setdefault("api_key", live.key)
    data = {k: v for k, v in data.items() if v is not None}
    return call(v2(live, f"requests.{fmt}"), "POST", data=data, files=files)


def error_of(answer, fmt="json") -> tuple[int, str]:
    """The one error of a spec error list, checking its shape."""
    if fmt == "json":
        body = answer.json
        assert isinstance(body, list) and len(body) == 1, body
        assert set(body[0]) == {"code", "description"}
        return body[0]["code"], body[0]["description"]
    root = answer.xml
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    assert [c.tag for c in root[0]] == ["code", "description"]
    return int(root[0].find("code").text), root[0].find("description").text


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 30)).save(out, "JPEG")
    return out.getvalue()


# Discovery.

def test_discovery_json(live) -> None:
    answer = call(v2(live, "discovery.json"))
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("application/json")
    body = answer.json
    assert W3C.match(body["changeset"])
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == f"{live.url}/open311/v2"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert endpoint["type"] == "production"


def test_discovery_xml(live) -> None:
    answer = call(v2(live, "discovery.xml"))
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/xml")
    assert b"xmlns" not in answer.body
    root = answer.xml
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.find("specification").text == "http://wiki.open311.org/GeoReport_v2"
    assert {f.text for f in endpoint.findall("formats/format")} == {"application/json", "text/xml"}


# Services.

def test_services_json(live) -> None:
    body = call(v2(live, "services.json")).json
    assert isinstance(body, list)
    by_code = {s["service_code"]: s for s in body}
    assert set(by_code) == {"0101", "0104", "0105"}  # the 小类; the 大类 01 is a group
    assert by_code["0101"] == {
        "service_code": "0101", "service_name": "暴露垃圾", "description": "市容环境 · 暴露垃圾",
        "metadata": False, "type": "realtime", "keywords": "垃圾,垃圾桶", "group": "市容环境",
    }
    assert by_code["0104"]["metadata"] is True  # it asks extra questions


def test_services_xml(live) -> None:
    root = call(v2(live, "services.xml")).xml
    assert root.tag == "services" and {s.tag for s in root} == {"service"}
    first = root[0]
    assert [c.tag for c in first] == ["service_code", "service_name", "description", "metadata",
                                      "type", "keywords", "group"]
    assert {s.find("service_code").text: s.find("metadata").text for s in root} == {
        "0101": "false", "0104": "true", "0105": "false"}


def test_service_definition_json(live) -> None:
    body = call(v2(live, "services/0104.json")).json
    assert body["service_code"] == "0104"
    size, since = body["attributes"]
    assert size == {
        "variable": True, "code": "size", "datatype": "singlevaluelist", "required": True,
        "datatype_description": None, "order": 1, "description": "堆放面积",
        "values": [{"key": "small", "name": "小于1平方米"}, {"key": "large", "name": "1平方米以上"}],
    }
    assert since["datatype"] == "datetime" and since["required"] is False and since["values"] == []


def test_service_definition_xml(live) -> None:
    root = call(v2(live, "services/0104.xml")).xml
    assert root.tag == "service_definition"
    assert root.find("service_code").text == "0104"
    attribute = root.find("attributes/attribute")
    assert attribute.find("code").text == "size" and attribute.find("required").text == "true"
    assert [v.find("key").text for v in attribute.findall("values/value")] == ["small", "large"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_errors(live, fmt) -> None:
    assert error_of(call(v2(live, f"services/9999.{fmt}")), fmt)[0] == 404
    answer = call(v2(live, f"services/0101.{fmt}"))  # no extra questions: no definition
    assert answer.status == 404 and error_of(answer, fmt)[0] == 404


# Submitting.

def test_post_json(live, django_db_blocker) -> None:
    from linge.cases.models import Case, Source

    answer = post(live, address_string="上墩村东路口", phone="138-0000-9999",
                  email="someone@example.cn", first_name="三", last_name="张",
                  jurisdiction_id="331081", device_id="d1", account_id="a1")
    assert answer.status == 201, answer.body
    (receipt,) = answer.json
    assert NUMBER.match(receipt["service_request_id"])
    assert isinstance(receipt["token"], str) and receipt["token"]
    assert set(receipt) == {"service_request_id", "token", "service_notice", "account_id"}
    with django_db_blocker.unblock():
        case = Case.objects.get(number=receipt["service_request_id"])
        assert case.source == Source.OPEN311 and case.grid.code == "331081107001001"
        assert case.address == "上墩村东路口" and case.reporter_phone == "13800009999"
        assert case.reporter_id is None and (case.lon, case.lat) == (121.305, 28.305)


def test_post_xml_with_key_in_query_and_answers(live, django_db_blocker) -> None:
    from linge.cases.models import Case

    answer = call(v2(live, "requests.xml") + f"?api_key={live.key}", "POST", data={
        "service_code": "0104", "description": "路边堆了建材", **INSIDE,
        "attribute[size]": "large", "attribute[since]": "2026-11-01 08:00",
    })
    assert answer.status == 201, answer.body
    root = answer.xml
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request"]
    number = root[0].find("service_request_id").text
    assert NUMBER.match(number) and root[0].find("token").text
    with django_db_blocker.unblock():
        text = Case.objects.get(number=number).description
    assert "堆放面积：1平方米以上" in text and "发现时间：2026-11-01T08:00:00+08:00" in text


def test_post_with_media(live, django_db_blocker) -> None:
    from linge.cases.models import Case

    answer = post(live, files=[("media", "a.jpg", jpeg(), "image/jpeg")])
    assert answer.status == 201, answer.body
    number = answer.json[0]["service_request_id"]
    with django_db_blocker.unblock():
        case = Case.objects.get(number=number)
        (photo,) = case.attachments.all()
        assert (photo.width, photo.height) == (64, 48)
    assert (live.media / photo.file.name).exists()


def test_retried_post_with_request_key_makes_one_case(live, django_db_blocker) -> None:
    first = post(live, request_key="retry-0001")
    again = post(live, request_key="retry-0001")
    assert (first.status, again.status) == (201, 200)
    assert first.json == again.json


REFUSALS = [
    # (what is sent, status, words of the description)
    ({"api_key": None}, 403, "api_key is required"),
    ({"api_key": "lg_nope_nope"}, 403, "invalid"),
    ({"service_code": None}, 400, "service_code is required"),
    ({"service_code": "9999"}, 404, "service_code"),
    ({"service_code": "01"}, 404, "service_code"),  # a 大类 is a group, not a service
    ({"lat": None, "long": None, "address_string": "上墩村"}, 400, "lat and long are required"),
    ({"lat": "95", "long": "121.3"}, 400, "lat must be"),
    ({"lat": "abc"}, 400, "lat must be"),
    ({**NOWHERE}, 400, "lies in no grid"),
    ({"media_url": "http://example.cn/a.jpg"}, 400, "media_url is not fetched"),
    ({"description": None}, 400, "description is required"),
    ({"jurisdiction_id": "110000"}, 404, "jurisdiction_id"),
    ({"phone": "call me"}, 400, "phone"),
    ({"service_code": "0104"}, 400, "attribute[size] is required"),
    ({"service_code": "0104", "attribute[size]": "huge"}, 400, "attribute[size] must be one of"),
    ({"request_key": "short"}, 400, "request_key"),
    ({"description": "字" * 2001}, 400, "2000"),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("fields", "status", "words"), REFUSALS)
def test_post_refusals_change_nothing(live, django_db_blocker, fmt, fields, status, words) -> None:
    before = cases_count(django_db_blocker)
    key = fields.get("api_key", live.key)
    answer = post(live, fmt, key=key is not None, **{**fields, "api_key": key})
    assert answer.status == status, answer.body
    code, description = error_of(answer, fmt)
    assert code == status and words in description
    assert cases_count(django_db_blocker) == before


def test_post_refuses_media_that_is_no_image(live, django_db_blocker) -> None:
    before = cases_count(django_db_blocker)
    answer = post(live, files=[("media", "a.jpg", b"not a picture", "image/jpeg")])
    assert answer.status == 400 and "media" in error_of(answer)[1]
    assert cases_count(django_db_blocker) == before


def test_revoked_and_wrong_channel_keys_are_refused(live, django_db_blocker) -> None:
    from linge.clients import keys
    from linge.clients.models import Channel

    with django_db_blocker.unblock():
        revoked = keys.create("old client", channels=[Channel.OPEN311])
        keys.revoke(revoked.api_key)
        api_only = keys.create("api only", channels=[Channel.API]).key
    assert error_of(post(live, api_key=revoked.key))[0] == 403
    assert "may not use open311" in error_of(post(live, api_key=api_only))[1]


def test_key_rate_limit_answers_429_with_retry_after(live, django_db_blocker) -> None:
    from linge.clients import keys

    with django_db_blocker.unblock():
        slow = keys.create("slow client", rate_per_minute=2).key
    statuses = [call(v2(live, "requests.json"), params={"api_key": slow}).status
                for _ in range(3)]
    assert statuses == [200, 200, 429]
    answer = call(v2(live, "requests.xml"), params={"api_key": slow})
    assert answer.status == 429 and 1 <= int(answer.headers["Retry-After"]) <= 60
    assert error_of(answer, "xml")[0] == 429


# Reading requests.

@pytest.fixture(scope="module")
def made(live, django_db_blocker):
    """Cases in known states and times: an old one (100 days), one accepted with an
    internal note, one rejected, and one submitted through Open311."""
    from linge.cases import intake, workflow
    from linge.cases.models import Source

    city = live.city
    receipt = post(live, description="路灯不亮，电话13800001111").json[0]
    with django_db_blocker.unblock():
        now = timezone.now()

        def report(text, days_ago=0, category=None):
            return intake.submit(None, Source.RESIDENT_PAGE, intake.Report(
                category=category or city.category, description=text, grid=city.grid,
                lon=121.305, lat=28.305), now=now - timedelta(days=days_ago)).case

        old = report("一百天前的垃圾", days_ago=100)
        accepted = report("井盖缺失", days_ago=1, category=city.plain)
        workflow.accept(accepted, city["grid_leader"], note="内部：涉及征迁，不要外传")
        rejected = report("重复反映", days_ago=1)
        workflow.reject(rejected, city["grid_leader"], reason="非本辖区事项")
    return {"old": old.number, "accepted": accepted.number, "rejected": rejected.number,
            "mine": receipt["service_request_id"], "token": receipt["token"]}


FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code",
          "description", "agency_responsible", "service_notice", "requested_datetime",
          "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
          "long", "media_url"]


def listing(live, fmt="json", **params) -> list:
    answer = call(v2(live, f"requests.{fmt}"), params=params)
    assert answer.status == 200, answer.body
    return answer.json if fmt == "json" else answer.xml


def test_get_requests_json(live, made) -> None:
    rows = listing(live)
    numbers = [r["service_request_id"] for r in rows]
    assert made["accepted"] in numbers and made["mine"] in numbers
    assert made["old"] not in numbers  # outside the default 90 days
    assert made["rejected"] not in numbers  # rejected cases are not published
    row = next(r for r in rows if r["service_request_id"] == made["accepted"])
    assert list(row) == FIELDS
    assert row["status"] == "open" and row["service_code"] == "0104"
    assert isinstance(row["lat"], float) and isinstance(row["long"], float)
    assert W3C.match(row["requested_datetime"]) and W3C.match(row["updated_datetime"])
    assert W3C.match(row["expected_datetime"])
    # Status notes are the public timeline's latest line: never the internal note,
    # never the reporter's words; the description is the submitting client's only.
    assert row["status_notes"] == "网格长 王** 已受理"
    assert row["description"] is None
    assert "征迁" not in str(rows) and "13800001111" not in str(rows)
    created = [r["requested_datetime"] for r in rows]
    assert created == sorted(created, reverse=True)


def test_the_submitting_client_reads_its_description(live, made) -> None:
    (row,) = call(v2(live, f"requests/{made['mine']}.json"), params={"api_key": live.key}).json
    assert row["description"] == "路灯不亮，电话13800001111"
    (anonymous,) = call(v2(live, f"requests/{made['mine']}.json")).json
    assert anonymous["description"] is None and anonymous["status_notes"] == "问题已登记上报"


def test_get_requests_xml(live, made) -> None:
    root = listing(live, "xml")
    assert root.tag == "service_requests" and {r.tag for r in root} == {"request"}
    row = next(r for r in root if r.find("service_request_id").text == made["accepted"])
    assert [c.tag for c in row] == FIELDS
    assert row.find("status").text == "open" and row.find("lat").text == "28.305"


def test_service_request_id_overrides_other_filters(live, made) -> None:
    rows = listing(live, service_request_id=f"{made['old']},{made['accepted']}",
                   status="closed", service_code="0105")
    assert {r["service_request_id"] for r in rows} == {made["old"], made["accepted"]}


def test_filters(live, made) -> None:
    assert {r["service_code"] for r in listing(live, service_code="0104")} == {"0104"}
    both = listing(live, service_code="0104,0101")
    assert {r["service_code"] for r in both} == {"0101", "0104"}
    assert made["accepted"] not in [r["service_request_id"] for r in listing(live, status="closed")]
    assert {r["status"] for r in listing(live, status="open")} == {"open"}
    assert len(listing(live, status="open,closed")) == len(listing(live))


def test_dates_window_and_lenient_parsing(live, made) -> None:
    today = timezone.localdate()
    old_day = today - timedelta(days=100)
    around_old = listing(live, start_date=(old_day - timedelta(days=1)).isoformat(),
                         end_date=(old_day + timedelta(days=1)).isoformat())
    assert [r["service_request_id"] for r in around_old] == [made["old"]]
    # Only a start: 90 days from it; only an end: the 90 days before it.
    assert made["old"] in [r["service_request_id"] for r in listing(
        live, start_date=f"{old_day - timedelta(days=2)}T00:00:00Z")]
    assert made["old"] in [r["service_request_id"] for r in listing(
        live, end_date=f"{old_day + timedelta(days=2)} 12:00")]
    # Offsets are honoured: the same instant in UTC and in +08:00.
    utc = listing(live, start_date=f"{today - timedelta(days=3)}T16:00:00Z")
    local = listing(live, start_date=f"{today - timedelta(days=2)}T00:00:00+08:00")
    assert utc == local


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("params", "status", "words"), [
    ({"start_date": "2026-01-01", "end_date": "2026-06-01"}, 400, "90 days"),
    ({"start_date": "2026-06-01", "end_date": "2026-05-01"}, 400, "before start_date"),
    ({"start_date": "yesterday"}, 400, "W3C"),
    ({"status": "pending"}, 400, "status"),
    ({"service_code": "0101,9999"}, 404, "9999"),
    ({"page_size": "1001"}, 400, "page_size"),
    ({"page": "0"}, 400, "page"),
    ({"jurisdiction_id": "nowhere"}, 404, "jurisdiction_id"),
    ({"api_key": "lg_bad_key"}, 403, "api_key"),
])
def test_list_refusals(live, made, fmt, params, status, words) -> None:
    answer = call(v2(live, f"requests.{fmt}"), params=params)
    code, description = error_of(answer, fmt)
    assert (answer.status, code) == (status, status) and words in description


def test_empty_parameters_are_absent(live, made) -> None:
    assert listing(live, status="", service_code="", start_date="", end_date="", page="",
                   page_size="", api_key="", jurisdiction_id="", updated_after="") == listing(live)


def test_updated_after_and_before(live, made) -> None:
    rows = listing(live)
    newest = max(r["updated_datetime"] for r in rows)
    # Shown to the second; a change within that second is after the second's start.
    assert {r["updated_datetime"] for r in listing(live, updated_after=newest)} == {newest}
    one_later = (datetime.fromisoformat(newest) + timedelta(seconds=1)).isoformat()
    assert listing(live, updated_after=one_later) == []
    earlier = listing(live, updated_before=newest)
    assert len(earlier) == len([r for r in rows if r["updated_datetime"] < newest])


def test_one_request_and_tokens(live, made) -> None:
    for fmt in ("json", "xml"):
        answer = call(v2(live, f"requests/{made['accepted']}.{fmt}"))
        assert answer.status == 200
        if fmt == "json":
            (row,) = answer.json  # an array, even for one request
            assert row["service_request_id"] == made["accepted"]
        else:
            assert [r.tag for r in answer.xml] == ["request"]
        assert error_of(call(v2(live, f"requests/20200101-999999.{fmt}")), fmt)[0] == 404
        token = call(v2(live, f"tokens/{made['token']}.{fmt}"))
        if fmt == "json":
            assert token.json == [{"service_request_id": made["mine"], "token": made["token"]}]
        else:
            assert token.xml.find("request/service_request_id").text == made["mine"]
        assert error_of(call(v2(live, f"tokens/nope.{fmt}")), fmt)[0] == 404


def test_rejected_case_is_hidden_but_not_from_its_client(live, made, django_db_blocker) -> None:
    from linge.cases import workflow
    from linge.cases.models import Case

    assert call(v2(live, f"requests/{made['rejected']}.json")).status == 404
    mine = post(live, description="要被驳回的").json[0]["service_request_id"]
    with django_db_blocker.unblock():
        workflow.reject(Case.objects.get(number=mine), live.city["grid_leader"],
                        reason="已由城管处理")
    assert call(v2(live, f"requests/{mine}.json")).status == 404
    (row,) = call(v2(live, f"requests/{mine}.json"), params={"api_key": live.key}).json
    assert row["status"] == "closed" and row["status_notes"] == "不予受理，原因：已由城管处理"


def test_unknown_format_and_path(live) -> None:
    answer = call(v2(live, "services.html"))
    assert answer.status == 404 and error_of(answer)[0] == 404
    assert error_of(call(v2(live, "nothing.xml")), "xml")[0] == 404


def test_thousand_cap_and_pages(live, made, django_db_blocker) -> None:
    from linge.cases.models import Case, State

    city = live.city
    base = timezone.now() - timedelta(days=150)
    with django_db_blocker.unblock():
        Case.objects.bulk_create([Case(
            number=f"20200101-{900000 + i}", source="open311", category=city.category,
            description="批量", grid=city.grid, village=city.village, town=city.town,
            owner_unit_id=Case.objects.values_list("owner_unit_id", flat=True).first(),
            state=State.SUBMITTED, created_at=base + timedelta(seconds=i),
            updated_at=base + timedelta(seconds=i)) for i in range(1001)])
    window = {"start_date": (base - timedelta(days=1)).isoformat(),
              "end_date": (base + timedelta(days=1)).isoformat()}
    first = listing(live, **window)
    assert len(first) == 1000
    assert first[0]["service_request_id"] == "20200101-901000"  # newest first
    second = listing(live, page="2", **window)
    assert [r["service_request_id"] for r in second] == ["20200101-900000"]
    small = listing(live, page="3", page_size="10", **window)
    assert [r["service_request_id"] for r in small] == [f"20200101-{900980 - i}"
                                                        for i in range(10)]
