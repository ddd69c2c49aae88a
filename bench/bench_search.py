"""Benchmark the workbench inbox search (LIKE on the Chinese text) on a large case table.

    python bench/bench_search.py [--cases 1000000] [--postgres URL]

Runs on a fresh temporary SQLite file (or a scratch PostgreSQL database `lingesearch`,
created and dropped). Builds the test city plus 1,000 extra grids, bulk-inserts
`--cases` cases with descriptions drawn from everyday complaints (not through the
workflow: only the case rows matter here), then times the inbox query a grid worker,
a town dispatcher and a city leader make: count + first page of
`/work/?tab=done&q=…`, and the same without a search word as the baseline. Prints
milliseconds and the ratio search / no search.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PHRASES = ["垃圾桶满溢", "楼道堆放杂物", "路灯不亮", "道路破损", "占道经营", "噪音扰民",
           "违章搭建", "污水外溢", "井盖缺失", "树木倒伏", "车辆乱停", "焚烧秸秆", "小广告",
           "宠物扰民", "积水严重", "管道漏水", "电线私拉", "油烟扰民", "工地扬尘", "河道漂浮物"]
PLACES = ["村口", "菜市场旁", "小学门口", "三号楼", "老街", "公交站", "桥头", "祠堂边"]


def setup(args: argparse.Namespace) -> None:
    tmp = tempfile.mkdtemp(prefix="linge-search-")
    os.environ["LINGE_VAR_DIR"] = tmp
    if args.postgres:
        base = args.postgres.rsplit("/", 1)[0]
        os.environ["LINGE_DATABASE_URL"] = f"{base}/lingesearch"
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS lingesearch")
            conn.execute("CREATE DATABASE lingesearch")
    else:
        os.environ["LINGE_DATABASE_URL"] = f"sqlite:///{tmp}/search.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linge.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(n: int) -> dict:
    from django.utils import timezone
    from tests.conftest import build_city

    from linge.areas.models import Area, Level
    from linge.cases.models import Case, State
    from linge.people.models import Unit, UnitKind

    city = build_city()
    grids = Area.objects.bulk_create([
        Area(code=f"331081001001{i:03d}",
             name=f"合成网格{i}", level=Level.GRID, parent=city.other_town_grid.parent)
        for i in range(2, 1000)
    ])
    team = Unit.objects.get(area=city.other_town_grid, kind=UnitKind.GRID_TEAM)
    rng = random.Random(7)
    now = timezone.now()
    states = [State.CLOSED] * 8 + [State.ACCEPTED, State.SUBMITTED]
    real = [city.grid, city.neighbour_grid, city.other_village_grid]
    t0 = time.perf_counter()
    batch = []
    for i in range(n):
        # 1 in 1,000 cases falls in grid A1 (a grid's share in a 1,100-grid city), 1 in
        # 16 in town A; the rest spread over town B's grids.
        roll = rng.random()
        grid = real[0] if roll < 0.001 else (rng.choice(real) if roll < 0.0625
                                              else rng.choice(grids))
        village, town = grid.parent_id, grid.parent.parent_id
        created = now - timedelta(minutes=i)
        text = f"{rng.choice(PLACES)}{rng.choice(PHRASES)}，{rng.choice(PHRASES)}，请尽快处理"
        batch.append(Case(
            number=f"B{i:015d}", source="qr", category=city.plain, description=text,
            grid_id=grid.pk, village_id=village, town_id=town, owner_unit=team,
            state=rng.choice(states), created_at=created, updated_at=created,
        ))
        if len(batch) == 5000:
            Case.objects.bulk_create(batch)
            batch = []
    Case.objects.bulk_create(batch)
    print(f"inserted {n} cases in {time.perf_counter() - t0:.0f} s")
    return {"grid worker": city["full_time"], "town dispatcher": city["dispatcher"],
            "city leader": city["leader"]}


def measure(users: dict) -> None:
    from django.db import connection
    from django.http import QueryDict
    from django.utils import timezone

    from linge.people.scope import roles_of
    from linge.workbench import queries

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    now = timezone.now()
    for label, user in users.items():
        times = {}
        for q in ("", "垃圾桶", "村口 漏水"):
            f = queries.parse_filters(QueryDict(f"tab=done&q={q}"), roles_of(user))
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                qs = queries.filtered(user, f, now).order_by("-created_at")
                count = qs.count()
                list(qs[:30])
                best = min(best, time.perf_counter() - t)
            times[q or "(none)"] = (best * 1000, count)
        base = times["(none)"][0]
        shown = ", ".join(f"q={k}: {ms:.0f} ms ({n} hits, ×{ms / base:.1f})"
                          for k, (ms, n) in times.items())
        print(f"{label}: {shown}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()
    setup(args)
    measure(fill(args.cases))


if __name__ == "__main__":
    main()
