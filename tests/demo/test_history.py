"""The demo history is made through the workflow: valid chains, a realistic mix."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from linge.areas.locate import locate
from linge.areas.models import Area
from linge.cases.chain import verify_chain
from linge.cases.models import Case, CaseEvent, Source, State
from linge.demo.city import build_city
from linge.demo.history import make_history
from linge.insights.hot import clusters

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
    # Most reports from the spot carry a position inside their grid; phone calls none.
    placed = Case.objects.exclude(lon=None)
    assert 0.4 * report.cases < placed.count() < 0.8 * report.cases
    assert not placed.filter(source=Source.HOTLINE).exists()
    assert all(locate(c.lon, c.lat).grid_id == c.grid_id for c in placed[:300])
    # The demo logins' grid has a hot spot to show (热点).
    showcase = Area.objects.get(name="上墩村第1网格")
    found = clusters(Case.objects.filter(grid=showcase), since=END - timedelta(days=120))
    assert found and found[0].size >= 3
