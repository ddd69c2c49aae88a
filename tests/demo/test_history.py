"""The demo history is made through the workflow: valid chains, a realistic mix."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from linge.cases.chain import verify_chain
from linge.cases.models import Case, CaseEvent, State
from linge.demo.city import build_city
from linge.demo.history import make_history

END = datetime(2026, 11, 27, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.django_db(transaction=True)
def test_a_small_year_of_history() -> None:
    info = build_city()
    report = make_history(info, 600, days=120, end=END)
    assert report.cases == Case.objects.count() >= 600
    assert report.events == CaseEvent.objects.count()
    assert verify_chain() == (report.events, None)
    states = {state: Case.objects.filter(state=state).count() for state in State.values}
    assert states[State.CLOSED] > 0.8 * report.cases
    assert states[State.REJECTED] > 0 and states[State.MERGED] > 0
    assert Case.objects.filter(escalated=True).count() > 0.1 * report.cases
    assert Case.objects.filter(rework_count__gt=0).exists()
    # Nothing happens after the end date, and every case number is unique per day.
    assert not CaseEvent.objects.filter(at__gt=END).exists()
    assert Case.objects.values("number").distinct().count() == report.cases
    # Unrated cases are closed as unrated, never as satisfied.
    auto_closed = Case.objects.filter(events__action="auto_close")
    assert auto_closed.exists() and not auto_closed.exclude(rating="").exists()
