"""The household register: CSV import (refused whole on any bad row), coverage, rights."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from linge.areas.models import Area, Level
from linge.plaintext import small_int, strip_controls
from linge.visits.models import KNOWN_TAGS, Household, Visit

COLUMNS = {"address": ("地址", "address"), "head": ("户主", "head"),
           "people": ("人数", "people"), "tags": ("标签", "tags")}
TAG_SEPARATORS = ("、", ";", "；", "|", ",", "，")
MAX_ROWS = 5000


class ImportRefused(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _split_tags(text: str) -> list[str]:
    for sep in TAG_SEPARATORS[1:]:
        text = text.replace(sep, TAG_SEPARATORS[0])
    return [t.strip() for t in text.split(TAG_SEPARATORS[0]) if t.strip()]


def import_csv(grid: Area, data: bytes | str) -> tuple[int, int]:
    """Import households into `grid`; returns (created, updated). Any bad row refuses all."""
    if grid.level != Level.GRID:
        raise ImportRefused([_("只能导入到网格")])
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise ImportRefused([_("无法识别文件编码，请另存为 UTF-8 的 CSV")]) from None
    else:
        text = data
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ImportRefused([_("文件为空")])
    header = [h.strip().lower() for h in header]
    index: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                index[key] = i
    missing = [COLUMNS[k][0] for k in ("address", "head") if k not in index]
    if missing:
        raise ImportRefused([_("第 1 行：缺少列 %(c)s") % {"c": "、".join(missing)}])
    problems: list[str] = []
    rows: dict[str, dict] = {}
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if line > MAX_ROWS + 1:
            problems.append(_("一次最多导入 %(n)s 户") % {"n": MAX_ROWS})
            break

        def cell(key: str, record=record) -> str:
            i = index.get(key)
            return strip_controls(record[i]).strip() if i is not None and i < len(record) else ""

        address, head = cell("address"), cell("head")
        where = _("第 %(n)s 行") % {"n": line}
        if not address:
            problems.append(f"{where}：" + _("地址不能为空"))
        elif len(address) > 200:
            problems.append(f"{where}：" + _("地址过长"))
        elif address in rows:
            problems.append(f"{where}：" + _("地址与第 %(n)s 行重复") % {"n": rows[address]["line"]})
        if not head or len(head) > 32:
            problems.append(f"{where}：" + _("户主不能为空，且不超过 32 字"))
        people_text = cell("people") or "1"
        if not 1 <= (small_int(people_text) or 0) <= 99:
            problems.append(f"{where}：" + _("人数应为 1 到 99 的整数，实际为「%(v)s」") % {
                "v": people_text})
            people = 1
        else:
            people = int(people_text)
        tags = _split_tags(cell("tags"))
        unknown = [t for t in tags if t not in KNOWN_TAGS]
        if unknown:
            problems.append(f"{where}：" + _("未知标签「%(t)s」") % {"t": "、".join(unknown)})
        rows[address] = {"line": line, "head": head, "people": people, "tags": tags}
    if problems:
        raise ImportRefused(problems)
    if not rows:
        raise ImportRefused([_("文件中没有住户")])
    now = timezone.now()
    created = updated = 0
    with transaction.atomic():
        existing = {h.address: h for h in Household.objects.select_for_update().filter(
            grid=grid, address__in=list(rows))}
        new = []
        for address, row in rows.items():
            household = existing.get(address)
            if household is None:
                new.append(Household(grid=grid, address=address, head=row["head"],
                                     people=row["people"], tags=row["tags"], updated_at=now))
                continue
            household.head, household.people, household.tags = (
                row["head"], row["people"], row["tags"])
            household.updated_at = now
            household.save(update_fields=["head", "people", "tags", "updated_at"])
            updated += 1
        Household.objects.bulk_create(new)
        created = len(new)
    return created, updated


# Coverage: 走访覆盖率 = households visited in the period / households on the register.

@dataclass
class Coverage:
    grid: Area
    households: int
    visited: int
    visits: int

    @property
    def rate(self) -> float | None:
        return self.visited / self.households if self.households else None


def coverage(grids, since: datetime | None = None, days: int = 90) -> list[Coverage]:
    since = since or timezone.now() - timedelta(days=days)
    grids = list(grids.select_related(*Area.NAME_PATH).order_by("code"))
    ids = [g.pk for g in grids]
    registered = dict(Household.objects.filter(grid_id__in=ids).values_list("grid_id")
                      .annotate(n=Count("pk")))
    visits = Visit.objects.filter(grid_id__in=ids, at__gte=since).values("grid_id").annotate(
        visited=Count("household_id", distinct=True), n=Count("pk"))
    by_grid = {v["grid_id"]: v for v in visits}
    return [
        Coverage(g, registered.get(g.pk, 0), by_grid.get(g.pk, {}).get("visited", 0),
                 by_grid.get(g.pk, {}).get("n", 0))
        for g in grids
    ]


# Coverage rolled up: the whole reach, its towns, their villages, their grids.

@dataclass
class Tally:
    """Coverage of one area (a town, a village or a grid) or of the whole reach."""

    code: str
    name: str
    level: str
    pk: int = 0
    grids: int = 0
    households: int = 0  # on the register (住户名册)
    claimed: int = 0  # the areas' own household counts (shown on the grid page)
    visited: int = 0  # households visited in the period
    visits: int = 0

    @property
    def rate(self) -> float | None:
        return self.visited / self.households if self.households else None

    @property
    def percent(self) -> int | None:
        rate = self.rate
        return None if rate is None else round(rate * 100)

    def add(self, other: Tally) -> None:
        self.grids += other.grids
        self.households += other.households
        self.claimed += other.claimed
        self.visited += other.visited
        self.visits += other.visits


@dataclass
class CoverageTree:
    total: Tally
    towns: dict[str, Tally]
    villages: dict[str, Tally]
    grids: dict[str, Tally]
    parent: dict[str, str]  # area code → its parent's code

    def children(self, code: str | None) -> list[Tally]:
        """The areas one level under `code` (None: the top of the reach: its towns,
        or its villages or grids when it holds only one town or village)."""
        if code is None:
            for level in (self.towns, self.villages, self.grids):
                if len(level) > 1 or level is self.grids:
                    return sorted(level.values(), key=lambda t: t.code)
        rows = [t for level in (self.villages, self.grids) for t in level.values()
                if self.parent.get(t.code) == code]
        return sorted(rows, key=lambda t: t.code)

    def find(self, code: str) -> Tally | None:
        return self.towns.get(code) or self.villages.get(code) or self.grids.get(code)


def coverage_tree(grids, days: int = 90, since: datetime | None = None) -> CoverageTree:
    """Coverage of every grid in `grids` and its sums by village, town and in all, in
    three queries whatever the number of grids."""
    since = since or timezone.now() - timedelta(days=days)
    rows = list(grids.values_list(
        "pk", "code", "name", "households", "parent__code", "parent__name",
        "parent__parent__code", "parent__parent__name").order_by("code"))
    scope = grids.values("pk")
    registered = dict(Household.objects.filter(grid__in=scope).values_list("grid_id")
                      .annotate(n=Count("pk")))
    visited = {v["grid_id"]: v for v in Visit.objects.filter(grid__in=scope, at__gte=since)
               .values("grid_id").annotate(visited=Count("household_id", distinct=True),
                                           n=Count("pk"))}
    total = Tally("", _("全部"), "all")
    tree = CoverageTree(total, {}, {}, {}, {})
    for pk, code, name, claimed, v_code, v_name, t_code, t_name in rows:
        seen = visited.get(pk, {})
        grid = Tally(code, name, Level.GRID, pk, 1, registered.get(pk, 0), claimed,
                     seen.get("visited", 0), seen.get("n", 0))
        tree.grids[code] = grid
        tree.parent[code] = v_code
        tree.parent[v_code] = t_code
        village = tree.villages.setdefault(v_code, Tally(v_code, v_name, Level.VILLAGE))
        town = tree.towns.setdefault(t_code, Tally(t_code, t_name, Level.TOWN))
        for tally in (village, town, total):
            tally.add(grid)
    return tree
