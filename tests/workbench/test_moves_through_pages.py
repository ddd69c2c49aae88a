"""The hand-written moves (tests/cases/moves_by_hand.py) through the pages people use:
POST /work/case/<n>/do/<action>/ for staff, /c/<n>/rate and /c/<n>/support for residents.

Expected answers come from that table and from the visibility written out below, never
from `workflow.allowed_actions`, which the pages themselves use.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.forms.models import model_to_dict
from django.test import Client

from linge.cases import workflow
from linge.cases.models import Case, CaseEvent, State
from linge.notify.models import Outbox
from linge.people.models import User
from linge.resident.qr import grid_qr_path
from tests.cases.moves_by_hand import MOVES, may, target
from tests.cases.test_moves_by_hand import drive_to
from tests.conftest import City

# The workbench's move endpoints, written out (rate, reopen and 我也遇到 are residents').
PAGE_ACTIONS = [
    "accept", "reject", "merge", "transfer", "supervise", "assign", "resolve", "escalate",
    "suspend", "resume", "dispatch", "return", "request_extension", "grant_extension",
    "refuse_extension", "verify", "fail_verification", "rate", "reopen", "add_support",
]
# Staff with a part in the table, and some who have none.
STAFF = ["grid_leader", "full_time", "part_time", "village_staff", "dispatcher",
         "office_handler", "town_leader", "leader", "grid_guide", "department_handler", "admin"]
# Who sees a case of 上墩村第1网格: its grid team, the village, the town, leaders, the
# administrator; the office only once the case was dispatched to it.
SEES = {"grid_leader", "full_time", "part_time", "grid_guide", "village_staff", "dispatcher",
        "town_leader", "leader", "admin"}
DISPATCHED = {"已派遣", "已派遣·已申请延时", "待核查", "待评价", "已办结"}


def sees(situation: str, persona: str) -> bool:
    return persona in SEES or (persona == "office_handler" and situation in DISPATCHED)


def snapshot() -> tuple:
    return (
        [model_to_dict(c) for c in Case.objects.order_by("pk")],
        CaseEvent.objects.count(),
        Outbox.objects.count(),
    )


def form(city: City, case: Case) -> dict:
    other = Case.objects.exclude(pk=case.pk).filter(state=State.SUBMITTED).first()
    return {
        "note": "说明", "reason": "理由", "comment": "意见", "amount": "1", "rating": "basic",
        "unit": city.office.pk, "lane": city.lanes["zhifa"].pk, "grid": city.neighbour_grid.pk,
        "assignee": city["part_time"].pk, "into": other.number if other else "",
    }


@pytest.mark.parametrize("situation", list(MOVES))
def test_staff_moves_through_the_case_page(city: City, situation: str) -> None:
    case = drive_to(city, situation, now=None)
    before = snapshot()
    data = form(city, case)
    wrong: list[str] = []
    for persona in STAFF:
        client = Client()
        client.force_login(city[persona])
        for action in PAGE_ACTIONS:
            url = f"/work/case/{case.number}/do/{action}/"
            with transaction.atomic():
                response = client.post(url, data)
                case.refresh_from_db()
                moved = list(CaseEvent.objects.filter(case=case, seq__gt=before[1])
                             .values_list("action", "to_state"))
                transaction.set_rollback(True)
            where = f"{situation} {action} by {persona}"
            if may(situation, action, persona):
                expected = (action, target(situation, action))
                if response.status_code != 302 or moved[:1] != [expected]:
                    wrong.append(f"{where}: {response.status_code} {moved}, expected {expected}")
                continue
            expected_status = 403 if sees(situation, persona) else 404
            if response.status_code != expected_status or moved:
                wrong.append(f"{where}: {response.status_code} {moved}, "
                             f"expected {expected_status} and no move")
            elif snapshot() != before:
                wrong.append(f"{where}: refused but changed something")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("situation", list(MOVES))
def test_residents_rate_and_support_through_their_pages(city: City, situation: str) -> None:
    follower = User.objects.create(username="r13900000003", display_name="居民丙",
                                   phone="13900000003", is_resident=True)
    case = drive_to(city, situation, now=None, follower=follower)
    reporter, other, dispatcher = Client(), Client(), Client()
    reporter.force_login(city["resident"])
    other.force_login(city["other_resident"])
    dispatcher.force_login(city["dispatcher"])
    rate_url = f"/c/{case.number}/rate"

    # 评价: the reporter alone, and only once the case is resolved. The follower and a
    # dispatcher see the page but may not rate it.
    follows = Client()
    follows.force_login(follower)
    for who, client in (("follower", follows), ("resident", reporter),
                        ("dispatcher", dispatcher)):
        before = snapshot()
        with transaction.atomic():
            response = client.post(rate_url, {"rating": "basic"})
            case.refresh_from_db()
            transaction.set_rollback(True)
        if who == "resident" and may(situation, "rate", "resident"):
            assert response.status_code == 302 and response["Location"].endswith("?rated=1")
            assert case.state == State.CLOSED and case.rating == "basic"
        else:
            assert response.status_code == 400, (who, response.status_code)
            assert snapshot() == before, who

    # 我也遇到: another resident, on a case the page showed them as a nearby duplicate.
    other.get(grid_qr_path(city.grid.code))
    listed = other.get("/report/nearby", {"category": city.plain.pk, "grid": city.grid.code,
                                          "lon": 121.305, "lat": 28.305}).json()["cases"]
    before_count = case.support_count
    response = other.post(f"/c/{case.number}/support", HTTP_ACCEPT="application/json")
    case.refresh_from_db()
    if may(situation, "add_support", "other_resident"):
        assert response.status_code == 200 and response.json()["ok"] is True
        assert case.support_count == before_count + 1
        assert case.supporters.filter(user=city["other_resident"]).exists()
    else:
        # A closed case is not offered; a resolved one is offered but refused.
        shown = case.number in {c["number"] for c in listed}
        assert response.status_code == (400 if shown else 404), response.status_code
        assert case.support_count == before_count
    # The reporter pressing it on their own case follows it already: nothing is added.
    reporter.get(grid_qr_path(city.grid.code))
    reporter.get("/report/nearby", {"category": city.plain.pk, "grid": city.grid.code})
    count = case.support_count
    reporter.post(f"/c/{case.number}/support", HTTP_ACCEPT="application/json")
    case.refresh_from_db()
    assert case.support_count == count
    assert not case.supporters.filter(user=city["resident"]).exists()


def test_the_holder_of_a_tracking_code_rates_through_the_page(city: City) -> None:
    done = workflow.submit(None, category=city.plain, description="路灯不亮", grid=city.grid)
    case = done.case
    workflow.accept(case, city["full_time"])
    workflow.resolve(case, city["full_time"], note="已修复")
    stranger = Client()
    assert stranger.post(f"/c/{case.number}/rate", {"rating": "basic"}).status_code == 404
    holder = Client()
    holder.post("/track", {"code": done.tracking_code})
    response = holder.post(f"/c/{case.number}/rate", {"rating": "satisfied"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == State.CLOSED and case.rating == "satisfied"
