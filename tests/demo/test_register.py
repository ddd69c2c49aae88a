"""The demo's household register holds as many households as each grid claims, so the
visits page and the grid page tell the same number."""

from __future__ import annotations

import pytest
from django.db.models import Count

from linge.areas.models import Area, Level
from linge.demo.register import build_register
from linge.visits.models import KNOWN_TAGS, Household

pytestmark = pytest.mark.django_db


def test_register_matches_the_grids(client, city) -> None:
    grids = Area.objects.filter(level=Level.GRID).select_related("parent")
    assert build_register(grids, seed=7) == 300 + 200 + 250 + 400
    counts = dict(Household.objects.values_list("grid_id").annotate(n=Count("pk")))
    assert counts == {g.pk: g.households for g in grids}
    village = Household.objects.filter(grid=city.grid).order_by("pk").first()
    assert village.address == "上墩村1组1弄1号" and village.head and 1 <= village.people <= 6
    flat = Household.objects.filter(grid=city.other_town_grid).order_by("pk").first()
    assert flat.address.startswith("东门社区1区1幢") and flat.address.endswith("室")
    tags = [t for h in Household.objects.all() for t in h.tags]
    assert tags and set(tags) <= set(KNOWN_TAGS)
    # Run again: grids with a register are left alone.
    assert build_register(grids, seed=7) == 0

    client.force_login(city["village_staff"])
    page = client.get("/work/visits/").content.decode()
    assert "名册 300 户" in page and "名册 200 户" in page and "网格登记" not in page
