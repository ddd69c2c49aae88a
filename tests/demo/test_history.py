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
    # Each description is one of its category's sentences, at the place its address names.
    from linge.demo.texts import TEXTS

    for case in Case.objects.select_related("category", "village")[:300]:
        place = case.address.removeprefix(case.village.name)
        sentence = case.description.replace(place, "{p}") if place else case.description
        assert any(sentence.startswith(t) for t in TEXTS[case.category.code]), (
            case.description, case.address, case.village.name)
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


def test_texts_follow_the_category_and_the_place() -> None:
    """Every packaged 小类 has its own sentences; a village's reports name village
    places and a community's urban ones, and the address says the same place."""
    import random

    from linge.cases.categories import DEFAULT_PATH
    from linge.demo.texts import COMMUNITY_PLACES, TEXTS, VILLAGE_PLACES, describe

    leaves = {line.split(",")[0] for line in DEFAULT_PATH.read_text(encoding="utf-8").splitlines()[1:]
              if line.split(",")[1]}
    assert leaves == set(TEXTS)
    rng = random.Random(1)
    text, place = describe("0203", "路灯不亮", False, rng)
    assert "路灯" in text and place in VILLAGE_PLACES and text.startswith(place)
    text, place = describe("0203", "路灯不亮", True, rng)
    assert place in COMMUNITY_PLACES
    text, place = describe("1002", "社保医保咨询", False, rng)
    assert place == "" and ("医保" in text or "养老金" in text)
