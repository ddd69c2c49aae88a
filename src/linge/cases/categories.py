"""Load the category tree (大类 → 小类) from a CSV file into Category and Lane rows.

The file has the columns of the packaged ``data/categories.csv``::

    code,parent,name,lane,accept_within,accept_unit,resolve_within,resolve_unit,photo_after,keywords,public

A row with an empty ``parent`` is a 大类; a row naming a parent is a 小类. ``public``
(optional column) says whether the category's cases are listed on the public grid page
from the QR code: 1 or 0; empty takes the 大类's value, and a 大类's empty means 1.
Sensitive matters (disputes between named people, fraud leads, a family's hardship)
are 0. Loading
upserts by code, so an edited tree can be loaded again: existing categories are
updated, new ones created, and categories missing from the file are left alone (cases
may point at them; deactivate them in the admin instead).

The whole file is checked before anything is written. Any problem refuses the whole
file with Chinese messages naming the line numbers, and nothing changes.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from linge.cases.models import Category, TimeUnit
from linge.people.models import Lane

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "categories.csv"

COLUMNS = (
    "code", "parent", "name", "lane", "accept_within", "accept_unit",
    "resolve_within", "resolve_unit", "photo_after", "keywords", "public",
)
# Columns a file may leave out (older files): read as empty.
OPTIONAL_COLUMNS = ("public",)

# The four lanes of the town platform, with stable codes and their order on screens.
KNOWN_LANES: dict[str, tuple[str, int]] = {
    "综治工作": ("zongzhi", 1),
    "市场监管": ("shichang", 2),
    "综合执法": ("zhifa", 3),
    "便民服务": ("bianmin", 4),
}

UNIT_WORDS: dict[str, str] = {
    "紧急时": TimeUnit.CLOCK_HOURS,
    "工作时": TimeUnit.WORK_HOURS,
    "工作日": TimeUnit.WORK_DAYS,
    "自然日": TimeUnit.CALENDAR_DAYS,
}

PHOTO_WORDS: dict[str, bool] = {"": False, "0": False, "1": True, "否": False, "是": True}

NUMBER = re.compile(r"[0-9]{1,4}(\.[0-9]{1,2})?")
Problem = Callable[[str], None]

MAX_CODE = Category._meta.get_field("code").max_length
MAX_NAME = Category._meta.get_field("name").max_length
MAX_KEYWORDS = Category._meta.get_field("keywords").max_length
MAX_LANE_NAME = Lane._meta.get_field("name").max_length


class CategoryFileError(ValueError):
    """The file was refused; ``problems`` holds one Chinese message per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("分类文件有误，未导入任何数据：\n" + "\n".join(problems))


@dataclass
class Row:
    """One checked line of the file, ready to be written."""

    line: int
    code: str
    parent: str
    name: str
    lane: str
    accept_within: Decimal | None
    accept_unit: str
    resolve_within: Decimal | None
    resolve_unit: str
    photo_after: bool
    keywords: str
    public: bool | None = None  # None: as its 大类 (a 大类: public)

    @property
    def is_leaf(self) -> bool:
        return bool(self.parent)


@dataclass
class CategoryImport:
    """What a load did. ``updated`` counts existing categories whose values changed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    groups: int = 0
    leaves: int = 0
    lanes_created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_categories(path: str | Path | None = None) -> tuple[int, int]:
    """Load the category tree from ``path`` (default: the packaged file).

    Returns ``(created, updated)``: categories created, and existing ones whose values
    changed. Raises :class:`CategoryFileError` (nothing written) when the file is wrong.
    """
    result = import_category_file(path)
    return result.created, result.updated


def import_category_file(path: str | Path | None = None) -> CategoryImport:
    """Check the whole file, then write lanes and categories in one transaction.

    ``auto_escalate`` is derived, not read: a 小类 whose resolve deadline is counted in
    紧急时 (clock hours) is an urgent safety matter — a gas leak, a missing manhole
    cover, a blocked fire lane — so when the grid lets it run overdue it escalates to
    the town platform by itself instead of waiting for a grid worker to do it. Every
    other category escalates only by hand. Each load sets the flag again from this
    rule, so changing a category's unit in the file changes the flag with it.
    ``active`` is never touched by a load.
    """
    result = CategoryImport()
    with transaction.atomic():
        rows = read_rows(Path(path) if path else DEFAULT_PATH, result.notes)
        lanes = _ensure_lanes(rows, result)
        _write(rows, lanes, result)
    return result


# Reading and checking -------------------------------------------------------------------


def read_rows(path: Path, notes: list[str]) -> list[Row]:
    """Parse and check every line; raise CategoryFileError listing all problems."""
    problems: list[str] = []
    # Every line becomes a Row, broken or not, so the tree checks see the whole file;
    # nothing is written unless no line has a problem.
    rows = [_parse_row(line, raw, problems, notes) for line, raw in _read_lines(path)]
    problems.extend(_tree_problems(rows))
    _inherit_lanes(rows)
    _inherit_public(rows)
    problems.extend(_database_problems(rows))
    if problems:
        raise CategoryFileError(sorted(problems, key=_line_of))
    return rows


def _read_lines(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CategoryFileError([f"找不到分类文件 {path}"]) from None
    except UnicodeDecodeError:
        raise CategoryFileError([f"分类文件 {path} 不是 UTF-8 编码"]) from None
    reader = csv.DictReader(text.splitlines())
    missing = [name for name in COLUMNS
               if name not in (reader.fieldnames or []) and name not in OPTIONAL_COLUMNS]
    if missing:
        raise CategoryFileError([f"第 1 行：缺少列 {'、'.join(missing)}"])
    result = []
    for raw in reader:
        if not any((value or "").strip() for value in raw.values() if isinstance(value, str)):
            continue
        # The reader counts physical lines; the header is line 1.
        result.append((reader.line_num, {k: (raw.get(k) or "").strip() for k in COLUMNS}))
    if not result:
        raise CategoryFileError([f"分类文件 {path} 没有数据行"])
    return result


def _parse_row(line: int, raw: dict[str, str], problems: list[str], notes: list[str]) -> Row:
    def problem(text: str) -> None:
        problems.append(f"第 {line} 行：{text}")

    code, parent, name, lane = raw["code"], raw["parent"], raw["name"], raw["lane"]
    if not code:
        problem("编码不能为空")
    elif len(code) > MAX_CODE or any(ch.isspace() for ch in code):
        problem(f"编码 {code!r} 不合规（最多 {MAX_CODE} 个字符，不含空格）")
    if not name:
        problem("名称不能为空")
    elif len(name) > MAX_NAME:
        problem(f"名称“{name}”超过 {MAX_NAME} 个字")
    if len(lane) > MAX_LANE_NAME:
        problem(f"条线名称“{lane}”超过 {MAX_LANE_NAME} 个字")
    if parent and parent == code:
        problem("上级分类不能是自身")

    def note(text: str) -> None:
        notes.append(f"第 {line} 行：{text}")

    accept = _deadline(raw, "accept", "受理时限", problem, note)
    resolve = _deadline(raw, "resolve", "处置时限", problem, note)
    missing = [p for p in ("accept", "resolve") if not raw[f"{p}_within"] + raw[f"{p}_unit"]]
    if parent and missing:
        problem("小类必须同时填写受理时限和处置时限（数值和单位）")

    photo = raw["photo_after"]
    if photo not in PHOTO_WORDS:
        problem(f"photo_after 应为 1 或 0，实际为 {photo!r}")
    public = raw["public"]
    if public not in PHOTO_WORDS:
        problem(f"public 应为 1、0 或留空，实际为 {public!r}")
    keywords = " ".join(raw["keywords"].split())
    if len(keywords) > MAX_KEYWORDS:
        problem(f"关键词超过 {MAX_KEYWORDS} 个字符")
    return Row(
        line=line, code=code, parent=parent, name=name, lane=lane,
        accept_within=accept[0], accept_unit=accept[1],
        resolve_within=resolve[0], resolve_unit=resolve[1],
        photo_after=PHOTO_WORDS.get(photo, False), keywords=keywords,
        public=PHOTO_WORDS.get(public) if public else None,
    )


def _deadline(
    raw: dict[str, str], prefix: str, label: str, problem: Problem, note: Problem
) -> tuple[int | None, str]:
    """Check one (number, unit word) pair; both empty is allowed here (a 大类)."""
    number, word = raw[f"{prefix}_within"], raw[f"{prefix}_unit"]
    if not number and not word:
        return None, ""
    unit = UNIT_WORDS.get(word, "")
    if not word:
        problem(f"{label}缺少单位（紧急时、工作时、工作日或自然日）")
    elif not unit:
        problem(f"{label}单位“{word}”不认识，应为紧急时、工作时、工作日或自然日")
    if not number:
        problem(f"{label}缺少数值")
        return None, unit
    value = _whole_units(number, label, word, note)
    if value is None:
        if number.startswith("-"):
            problem(f"{label}不能为负数，实际为 {number}")
        else:
            problem(f"{label}应为非负整数，实际为 {number!r}")
    return value, unit


def _whole_units(number: str, label: str, word: str, note: Problem) -> Decimal | None:
    """A non-negative amount with at most two decimals (0.5 紧急时 is half an hour)."""
    if not NUMBER.fullmatch(number):
        return None
    return Decimal(number)


def _tree_problems(rows: list[Row]) -> list[str]:
    """Duplicate codes and parents that are not 大类 of this file (the DB is checked later)."""
    problems = []
    seen: dict[str, int] = {}
    for row in rows:
        if not row.code:
            continue
        if row.code in seen:
            problems.append(f"第 {row.line} 行：编码 {row.code} 与第 {seen[row.code]} 行重复")
        else:
            seen[row.code] = row.line
    by_code = {row.code: row for row in rows}
    for row in rows:
        parent = by_code.get(row.parent)
        if parent is not None and parent.is_leaf:
            problems.append(
                f"第 {row.line} 行：上级分类 {row.parent} 是小类（第 {parent.line} 行），只能挂在大类下"
            )
    return problems


def _inherit_lanes(rows: list[Row]) -> None:
    """A 小类 without a lane takes its 大类's lane from the file (the DB's comes later)."""
    by_code = {row.code: row for row in rows}
    for row in rows:
        if row.is_leaf and not row.lane and row.parent in by_code:
            row.lane = by_code[row.parent].lane


def _inherit_public(rows: list[Row]) -> None:
    """A 小类 without a public flag takes its 大类's from the file, else from the
    database (in `_values`); a 大类 without one is public."""
    by_code = {row.code: row for row in rows}
    for row in rows:
        if not row.is_leaf and row.public is None:
            row.public = True
    for row in rows:
        if row.is_leaf and row.public is None and row.parent in by_code:
            row.public = by_code[row.parent].public


def _database_problems(rows: list[Row]) -> list[str]:
    """Parents outside the file must be 大类 in the database; leaves need a lane."""
    in_file = {row.code: row for row in rows}
    outside = {row.parent for row in rows if row.parent and row.parent not in in_file}
    groups = {
        c.code: c
        for c in Category.objects.filter(code__in=outside).select_related("lane")
    }
    problems = []
    for row in rows:
        if row.is_leaf and row.parent not in in_file:
            parent = groups.get(row.parent)
            if parent is None:
                problems.append(f"第 {row.line} 行：上级分类 {row.parent} 在文件和系统中都不存在")
                continue
            if parent.parent_id is not None:
                problems.append(f"第 {row.line} 行：上级分类 {row.parent} 是小类，只能挂在大类下")
                continue
            if not row.lane and parent.lane is not None:
                row.lane = parent.lane.name
        if row.is_leaf and not row.lane:
            problems.append(f"第 {row.line} 行：小类须有条线（本行和所属大类都没有填写）")
    problems.extend(_leaves_with_children(rows))
    return problems


def _leaves_with_children(rows: list[Row]) -> list[str]:
    """A 大类 in the database that keeps its 小类 cannot become a 小类 itself."""
    in_file = {row.code: row for row in rows}
    leaf_codes = [row.code for row in rows if row.is_leaf]
    kept: dict[str, list[str]] = {}
    children = Category.objects.filter(parent__code__in=leaf_codes).values_list(
        "code", "parent__code"
    )
    for child, parent in children.order_by("code"):
        moved = child in in_file and in_file[child].parent != parent
        if not moved:
            kept.setdefault(parent, []).append(child)
    return [
        f"第 {in_file[parent].line} 行：{parent} 在系统中有小类 {'、'.join(codes)}，不能改为小类"
        for parent, codes in kept.items()
    ]


def _line_of(message: str) -> int:
    digits = message.removeprefix("第 ").split(" ", 1)[0]
    return int(digits) if digits.isdigit() else 0


# Writing --------------------------------------------------------------------------------


def lane_code(name: str) -> str:
    """The code for a lane name: the known four, else a slug, else a stable hash."""
    if name in KNOWN_LANES:
        return KNOWN_LANES[name][0]
    slug = slugify(name)
    if slug:
        return slug[:32]
    return "lane-" + hashlib.sha1(name.encode()).hexdigest()[:8]


def _ensure_lanes(rows: list[Row], result: CategoryImport) -> dict[str, Lane]:
    """Find or create every lane the file names: by name, then by code."""
    lanes: dict[str, Lane] = {}
    names = list(dict.fromkeys(row.lane for row in rows if row.lane))
    # New lanes other than the known four go after every lane there is.
    next_position = max(
        [len(KNOWN_LANES), *Lane.objects.values_list("position", flat=True)]
    )
    for name in sorted(names, key=lambda n: KNOWN_LANES.get(n, ("", 99))[1]):
        code = lane_code(name)
        lane = Lane.objects.filter(name=name).first() or Lane.objects.filter(code=code).first()
        if lane is None:
            if name in KNOWN_LANES:
                position = KNOWN_LANES[name][1]
            else:
                next_position += 1
                position = next_position
            lane = Lane.objects.create(code=code, name=name, position=position)
            result.lanes_created.append(name)
        lanes[name] = lane
    return lanes


def _values(row: Row, lanes: dict[str, Lane], parents: dict[str, Category]) -> dict:
    return {
        "name": row.name,
        "parent": parents[row.parent] if row.parent else None,
        "lane": lanes.get(row.lane),
        "accept_within": row.accept_within,
        "accept_unit": row.accept_unit,
        "resolve_within": row.resolve_within,
        "resolve_unit": row.resolve_unit,
        "photo_after_required": row.photo_after,
        "auto_escalate": row.is_leaf and row.resolve_unit == TimeUnit.CLOCK_HOURS,
        "keywords": row.keywords,
        "public": row.public if row.public is not None else (
            parents[row.parent].public if row.parent else True),
    }


def _write(rows: list[Row], lanes: dict[str, Lane], result: CategoryImport) -> None:
    """Upsert 大类 first, then 小类, so each 小类 finds its parent."""
    codes = [row.code for row in rows] + [row.parent for row in rows if row.parent]
    existing = {c.code: c for c in Category.objects.filter(code__in=codes)}
    for row in sorted(rows, key=lambda r: (r.is_leaf, r.line)):
        values = _values(row, lanes, existing)
        category = existing.get(row.code)
        if category is None:
            existing[row.code] = Category.objects.create(code=row.code, **values)
            result.created += 1
        elif _apply(category, values):
            category.save()
            result.updated += 1
        else:
            result.unchanged += 1
        if row.is_leaf:
            result.leaves += 1
        else:
            result.groups += 1


def _apply(category: Category, values: dict) -> bool:
    """Set the values on the category; True when any of them changed."""
    changed = False
    for name, value in values.items():
        if name in ("parent", "lane"):
            current = getattr(category, f"{name}_id")
            new = value.pk if value is not None else None
        else:
            current, new = getattr(category, name), value
        if current != new:
            setattr(category, name, value)
            changed = True
    return changed
