"""Benchmark the workbench inbox search on a large case table: index against LIKE.

    python bench/bench_search.py [--cases 1000000] [--postgres URL] [--keep]

Runs on a fresh temporary SQLite file (or a scratch PostgreSQL database `lingesearch`,
created and dropped). Builds the test city plus 1,000 extra grids, bulk-inserts
`--cases` cases with descriptions drawn from everyday complaints and one of 5,000
street names (not through the workflow: only the case rows matter here), then times
the inbox query a grid worker, a town dispatcher and a city leader make: count + first
page of `/work/?tab=done&q=…`, for a common word, two words, a rare street name and a
single character, each with the character-pair index (what the workbench runs) and
with LIKE alone (the search before the index), plus the query without a search word.
Prints milliseconds, the ratio LIKE / index and the ratio index / no search.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
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
NAME_CHARS = "东南西北中新华兴建民安康泰和平江海山河林桥湖塘岙溪田港洋浦头坑岭峰石金玉"
STREETS = sorted({f"{a}{b}{c}路" for a in NAME_CHARS for b in NAME_CHARS for c in "一二三四五"})
STREETS = random.Random(11).sample(STREETS, 5000)
RARE = STREETS[42]
QUERIES = ["垃圾桶", "村口 漏水", RARE, "灯"]


def setup(args: argparse.Namespace) -> bool:
    """Point Django at the benchmark's database; True when it already holds the cases."""
    tmp = tempfile.mkdtemp(prefix="linge-search-")
    os.environ["LINGE_VAR_DIR"] = tmp
    name = f"lingesearch_{args.cases}" if args.keep else "lingesearch"
    path = (ROOT / "var" / f"{name}.sqlite3") if args.keep else Path(tmp) / "search.sqlite3"
    kept = False
    if args.postgres:
        base = args.postgres.rsplit("/", 1)[0]
        os.environ["LINGE_DATABASE_URL"] = f"{base}/{name}"
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            kept = args.keep and conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
            if not kept:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")
                conn.execute(f"CREATE DATABASE {name}")
    else:
        path.parent.mkdir(exist_ok=True)
        kept = path.exists()
        os.environ["LINGE_DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linge.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return kept


def teardown(args: argparse.Namespace) -> None:
    from django.db import connection

    connection.close()
    if args.postgres and not args.keep:
        import psycopg

        base = args.postgres.rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS lingesearch")
    shutil.rmtree(os.environ["LINGE_VAR_DIR"], ignore_errors=True)


def personas() -> dict:
    from linge.people.models import User

    return {label: User.objects.get(username=name) for label, name in
            (("grid worker", "full_time"), ("town dispatcher", "dispatcher"),
             ("city leader", "leader"))}


def fill(n: int) -> None:
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
        text = (f"{rng.choice(STREETS)}{rng.choice(PLACES)}{rng.choice(PHRASES)}，"
                f"{rng.choice(PHRASES)}，请尽快处理")
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


def like_only(text: str):
    """The search as it was before the index: LIKE on every word."""
    from django.db.models import Q

    q = Q()
    for word in text.split():
        q &= Q(description__icontains=word) | Q(address__icontains=word)
    return q


def timed(user, query: str, now, *, like: bool) -> tuple[float, int]:
    from django.http import QueryDict

    from linge.people.roles import roles_of
    from linge.workbench import queries

    f = queries.parse_filters(QueryDict(f"tab=done&q={query}"), roles_of(user))
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        if like:
            qs = queries.filtered(user, queries.Filters(tab=f.tab), now).filter(like_only(query))
        else:
            qs = queries.filtered(user, f, now)
        qs = qs.order_by("-created_at")
        count = qs.count()
        list(qs[:30])
        best = min(best, time.perf_counter() - t)
    return best * 1000, count


def measure(users: dict) -> None:
    from django.db import connection
    from django.utils import timezone

    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"ANALYZE: {time.perf_counter() - t:.0f} s")
    now = timezone.now()
    for label, user in users.items():
        base, _ = timed(user, "", now, like=False)
        print(f"{label}: no search {base:.0f} ms")
        for query in QUERIES:
            index_ms, hits = timed(user, query, now, like=False)
            like_ms, like_hits = timed(user, query, now, like=True)
            if hits != like_hits:
                raise SystemExit(f"index found {hits}, LIKE {like_hits} for {query!r}")
            print(f"  q={query}: index {index_ms:.0f} ms, LIKE {like_ms:.0f} ms "
                  f"({hits} hits; LIKE/index ×{like_ms / index_ms:.1f}, "
                  f"index/no search ×{index_ms / base:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--keep", action="store_true",
                        help="keep the filled database (var/ or PostgreSQL) and reuse it")
    args = parser.parse_args()
    try:
        if not setup(args):
            fill(args.cases)
        measure(personas())
    finally:
        teardown(args)


if __name__ == "__main__":
    main()
