"""A recent history in the test city, so that the screens' default period (this month)
and today's tiles have something to show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linge.cases import workflow
from linge.cases.models import Rating, Source
from linge.insights.models import Deliberation
from linge.people.roles import SYSTEM
from tests.conftest import City


def recent_history(city: City) -> None:
    # Within today (so inside the screens' default period, this month, and today's
    # tiles): the last two hours, or since midnight when the day is younger, the steps
    # shrunk to fit so that nothing happens after now.
    now = timezone.localtime()
    start = max(now - timedelta(hours=2), now.replace(hour=0, minute=0, second=0, microsecond=0))
    minute = min(timedelta(minutes=1), (now - start) / 100)
    grids = [(city.grid, "full_time"), (city.neighbour_grid, "neighbour_worker"),
             (city.other_village_grid, "other_village_worker"),
             (city.other_town_grid, "other_town_worker")]
    numbers = []
    for i in range(14):
        grid, worker = grids[i % 4]
        at = start + 7 * i * minute
        case = workflow.submit(
            city[worker] if i % 5 == 0 else city["resident"], category=city.plain,
            description=f"上墩路{i % 3}号门口垃圾桶满了好几天", grid=grid, address=f"上墩路{i % 3}号",
            lon=121.305 + 0.01 * (i % 4), lat=28.305 if i % 4 < 3 else 28.355,
            source=Source.PATROL if i % 5 == 0 else Source.RESIDENT_PAGE, now=at).case
        numbers.append(case.number)
        if i % 7 == 6:
            continue  # left waiting
        workflow.accept(case, city[worker], now=at + 3 * minute)
        if i % 4 == 3:
            workflow.flag_overdue(case, SYSTEM, now=case.resolve_due + timedelta(minutes=1))
            continue
        workflow.resolve(case, city[worker], note="已清运", now=at + 5 * minute)
        if case.reporter_id:
            workflow.rate(case, city["resident"], now=at + 6 * minute,
                          rating=Rating.SATISFIED if i % 3 else Rating.BASIC)
        else:
            workflow.auto_close(case, SYSTEM, now=at + timedelta(days=8))
    Deliberation.objects.create(
        village=city.village, title="垃圾桶不够", category=city.plain, keywords="垃圾桶",
        case_numbers=numbers[:4], meeting_on=start.date(), outcome="增设两个垃圾桶",
        created_by=city["village_staff"], created_at=start, updated_at=start)


@pytest.fixture
def recent(city: City) -> City:
    recent_history(city)
    return city
