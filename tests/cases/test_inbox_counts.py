"""cases.inbox's tab counts: the done tab stops counting one past the 1,000 it lists,
on the compiled path (an inbox as it opens) and on the built one (a filtered inbox)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linge.cases import inbox, policy
from linge.cases.models import Case, State
from linge.people.models import Unit, UnitKind

pytestmark = pytest.mark.django_db


def _history(city, closed: int, open_: int = 0) -> None:
    team = Unit.objects.get(kind=UnitKind.GRID_TEAM, area=city.grid)
    now = timezone.now()
    Case.objects.bulk_create(
        Case(number=f"19{i:08d}", source="open311", category=city.plain, description="旧案",
             grid=city.grid, village=city.village, town=city.town, owner_unit=team,
             state=State.CLOSED if i < closed else State.SUBMITTED,
             created_at=now - timedelta(hours=i + 1), updated_at=now - timedelta(hours=i + 1))
        for i in range(closed + open_))


@pytest.mark.parametrize(("closed", "counted"), [(999, 999), (1000, 1000), (1001, 1001),
                                                 (1500, 1001)])
def test_the_done_count_stops_one_past_what_the_tab_lists(city, closed, counted) -> None:
    _history(city, closed, open_=3)
    now = timezone.now()
    scope = policy.case_scope(city["full_time"])
    as_it_opens = inbox.scope_tab_counts(scope, now)
    assert as_it_opens["done"] == counted
    assert as_it_opens["submitted"] == 3  # the open tabs are counted in full
    narrowed = inbox.tab_counts(inbox.filtered(city["full_time"],
                                               inbox.Filters(category=city.plain.pk), now), now)
    assert narrowed["done"] == counted and narrowed["submitted"] == 3
    assert inbox.beyond_listed("done", counted) is (closed > 1000)
    assert inbox.shown_count("done", counted) == ("1000+" if closed > 1000 else closed)


def test_only_the_done_tab_is_capped() -> None:
    assert inbox.shown_count("submitted", 5000) == 5000
    assert inbox.beyond_listed("submitted", 5000) is False
    assert inbox.shown_count("done", None) is None


def test_past_the_limit_the_due_soon_read_keeps_the_nearest_deadlines(city) -> None:
    """More cases due within the look-ahead than the read takes (2,000): those left out
    are the ones due last, never a yellow one about to pass (the read had taken the
    newest reports, then whatever the index gave first)."""
    team = Unit.objects.get(kind=UnitKind.GRID_TEAM, area=city.grid)
    now = timezone.now()
    common = {"source": "open311", "category": city.urgent, "description": "旧案",
              "grid": city.grid, "village": city.village, "town": city.town,
              "owner_unit": team}
    green = [Case(number=f"18{i:08d}", state=State.ACCEPTED,
                  resolve_due=now + timedelta(days=9), resolve_budget=10 * 86400,
                  created_at=now - timedelta(minutes=i + 1), updated_at=now, **common)
             for i in range(2100)]  # a tenth of their time used, reported lately
    yellow = [Case(number=f"17{i:08d}", state=State.SUBMITTED,
                   accept_due=now + timedelta(minutes=6), accept_budget=3600,
                   created_at=now - timedelta(days=40, minutes=i), updated_at=now, **common)
              for i in range(5)]  # nine tenths used, reported long ago
    Case.objects.bulk_create(green + yellow)
    scope = policy.case_scope(city["full_time"])
    assert inbox.scope_tab_counts(scope, now)["due_soon"] == 5
    listed = inbox.tab_filter(policy.visible_cases(city["full_time"]), "due_soon", now)
    assert sorted(c.number for c in listed) == [f"17{i:08d}" for i in range(5)]
