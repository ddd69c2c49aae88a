"""The demo city's household register (住户名册): as many households in each grid as
the grid claims (`Area.households`, shown on the grid page), so that the visits pages
and the grid page tell the same number.

A village's households live along its lanes (弄) and numbered houses; a street
community's in numbered buildings and flats. Heads of household are drawn from the
demo's name lists; tags (独居老人, 低保户, …) are drawn at about the rates a village
register shows. Seeded: the same seed gives the same register.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from linge.areas.models import Area
from linge.demo.names import person_name
from linge.visits.models import KNOWN_TAGS, Household

BATCH = 5000
PEOPLE = (1, 2, 2, 3, 3, 3, 4, 4, 5, 6)  # people per household, drawn
# Chances per household of the first tags (独居老人 … 特困): a few in a hundred live
# alone, fewer are on 低保.
TAG_CHANCES = (0.04, 0.06, 0.02, 0.02, 0.015, 0.005)


def _tags(rng: random.Random) -> list[str]:
    return [tag for tag, chance in zip(KNOWN_TAGS, TAG_CHANCES, strict=False)
            if rng.random() < chance]


def _addresses(grid: Area, village_name: str, count: int, rng: random.Random) -> list[str]:
    if village_name.endswith("社区"):
        # Buildings (幢) of 12–36 flats.
        per = rng.choice((12, 18, 24, 36))
        first = grid.code[-3:].lstrip("0") or "1"
        return [f"{village_name}{first}区{i // per + 1}幢{(i % per) // 2 + 1}0{i % 2 + 1}室"
                for i in range(count)]
    # Lanes (弄) of 20–40 houses each; lanes numbered per grid so addresses stay apart.
    per = rng.randint(20, 40)
    serial = int(grid.code[-3:])
    return [f"{village_name}{serial}组{i // per + 1}弄{i % per + 1}号" for i in range(count)]


def build_register(grids: Iterable[Area], seed: int = 331081) -> int:
    """Write the register of these grids (select_related("parent")); returns the number
    of households written. Grids that already have a register are left alone.

    340,000 rows: written with one executemany per batch of plain values (model
    instances would take a minute), each value prepared by its field once."""
    rng = random.Random(f"{seed}:register")
    grids = list(grids)
    done = set(Household.objects.filter(grid__in=[g.pk for g in grids])
               .values_list("grid_id", flat=True).distinct())
    meta = Household._meta
    fields = [meta.get_field(name) for name in
              ("grid", "address", "head", "people", "tags", "updated_at")]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        connection.ops.quote_name(meta.db_table),
        ", ".join(connection.ops.quote_name(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)))
    now = fields[5].get_db_prep_save(timezone.now(), connection)
    tag_values: dict[tuple[str, ...], object] = {}
    written = 0
    batch: list[tuple] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for grid in grids:
            if grid.pk in done or grid.households <= 0:
                continue
            for address in _addresses(grid, grid.parent.name, grid.households, rng):
                tags = tuple(_tags(rng))
                if tags not in tag_values:
                    tag_values[tags] = fields[4].get_db_prep_save(list(tags), connection)
                batch.append((grid.pk, address, person_name(rng), rng.choice(PEOPLE),
                              tag_values[tags], now))
                if len(batch) >= BATCH:
                    cursor.executemany(sql, batch)
                    written += len(batch)
                    batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written
