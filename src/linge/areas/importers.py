"""Import areas (city, towns, villages, grids) from GeoJSON or CSV, all or nothing.

The file is read and checked completely first; any problem raises `AreaImportError`
listing every problem with its feature number or CSV line, and nothing is written.
Otherwise areas are created or updated by code (upsert) in one transaction, and the
locate index is invalidated when the transaction commits. A field that a row leaves
out (kind, households, geometry) keeps its current value on an existing area.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import shapely
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from shapely.errors import ShapelyError
from shapely.geometry import Polygon, shape
from shapely.geometry.base import BaseGeometry

from linge.areas import locate
from linge.areas.models import PARENT_LEVEL, Area, Level, code_problem

LEVEL_ORDER = [Level.CITY, Level.TOWN, Level.VILLAGE, Level.GRID]
LEVEL_WORDS = {
    "city": Level.CITY, "县级市": Level.CITY,
    "town": Level.TOWN, "镇街": Level.TOWN,
    "village": Level.VILLAGE, "村社": Level.VILLAGE,
    "grid": Level.GRID, "网格": Level.GRID,
}
# Villages and grids must have a boundary; the city and towns may leave it out.
NEEDS_BOUNDARY = {Level.VILLAGE, Level.GRID}
CSV_COLUMNS = {
    "code": "code", "编码": "code",
    "name": "name", "名称": "name",
    "level": "level", "层级": "level",
    "parent": "parent", "上级编码": "parent",
    "kind": "kind", "类型": "kind",
    "households": "households", "户数": "households",
    "geometry": "geometry", "boundary": "geometry", "边界": "geometry",
}
REQUIRED_CSV_COLUMNS = ("code", "name", "level")
NAME_MAX = Area._meta.get_field("name").max_length
KIND_MAX = Area._meta.get_field("kind").max_length
HOUSEHOLDS_MAX = 2_147_483_647  # PositiveIntegerField's upper bound on every database
CHUNK = 500
EXCEL_NUMBER = re.compile(r"\d(\.\d+)?[eE]\+?\d+")  # 3.31081E+14: a code Excel took for a number


class AreaImportError(Exception):
    """The file cannot be imported; `problems` lists every reason, in Chinese."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        head = _("导入失败，共 %(n)d 个问题，未写入任何数据：") % {"n": len(self.problems)}
        return "\n".join([head, *self.problems])


@dataclass
class ImportReport:
    """What an import did; `codes` lists every area of the file, parents first."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = _("新增 %(created)d，更新 %(updated)d") % {
            "created": self.created, "updated": self.updated,
        }
        if self.unchanged:
            text += _("，未变 %(n)d") % {"n": self.unchanged}
        return text


@dataclass
class RawRow:
    """One feature or CSV row as read, before any checking."""

    where: str
    position: int  # feature number or first line, to list problems in file order
    values: dict[str, Any]


@dataclass
class Record:
    """One checked area from the file. None for kind, households and boundary means
    "not given": a new area gets the default, an existing one keeps its value."""

    where: str  # "第 3 个要素（331081001001）"
    place: str  # "第 3 个要素"
    position: int
    code: str
    name: str
    level: str
    parent_code: str | None
    kind: str | None = None
    households: int | None = None
    boundary: dict[str, Any] | None = None
    center: tuple[float, float] | None = None


class Problems:
    """Problems found so far, listed in file order (feature number or line)."""

    def __init__(self) -> None:
        self._items: list[tuple[int, str]] = []

    def __bool__(self) -> bool:
        return bool(self._items)

    def add(self, where: str, message: str, position: int = 0) -> None:
        self._items.append((position, f"{where}：{message}"))

    def messages(self) -> list[str]:
        return [text for _position, text in sorted(self._items, key=lambda item: item[0])]


# ---------------------------------------------------------------------------
# Reading the file.


def _read(path_or_file: str | Path | IO[Any]) -> tuple[str, str]:
    """The file's text and name (for guessing the format)."""
    if hasattr(path_or_file, "read"):
        data = path_or_file.read()  # type: ignore[union-attr]
        name = str(getattr(path_or_file, "name", ""))
    else:
        path = Path(path_or_file)  # type: ignore[arg-type]
        try:
            data = path.read_bytes()
        except OSError as error:
            raise AreaImportError(
                [_("无法读取文件 %(path)s：%(reason)s") % {"path": path, "reason": error.strerror}]
            ) from None
        name = path.name
    text = _decode(data) if isinstance(data, bytes) else data
    return text.removeprefix("\ufeff"), name


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 — Excel in China saves CSV as GBK."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AreaImportError([_("文件编码无法识别，请保存为 UTF-8")])


def _format(fmt: str | None, name: str, text: str) -> str:
    if fmt:
        fmt = fmt.lower()
        fmt = "geojson" if fmt == "json" else fmt
        if fmt not in ("geojson", "csv"):
            raise AreaImportError([_("不支持的格式 %(fmt)s（应为 geojson 或 csv）") % {"fmt": fmt}])
        return fmt
    suffix = Path(name).suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix == ".csv":
        return "csv"
    return "geojson" if text.lstrip().startswith("{") else "csv"


def _geojson_rows(text: str, problems: Problems) -> list[RawRow]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise AreaImportError([
            _("JSON 格式错误（第 %(line)d 行第 %(col)d 列）：%(msg)s")
            % {"line": error.lineno, "col": error.colno, "msg": error.msg}
        ]) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise AreaImportError([_("GeoJSON 顶层应为 FeatureCollection")])
    features = doc.get("features")
    if not isinstance(features, list):
        raise AreaImportError([_("GeoJSON 缺少 features 数组")])
    rows = []
    for number, feature in enumerate(features, start=1):
        where = _("第 %(n)d 个要素") % {"n": number}
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.add(where, _("不是 GeoJSON Feature"), number)
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            problems.add(where, _("properties 应为对象"), number)
            continue
        # Known properties (English or Chinese names) are read; others are ignored.
        values = {CSV_COLUMNS.get(str(key).strip().lower()): value
                  for key, value in properties.items()}
        values.pop(None, None)
        values["geometry"] = feature.get("geometry")
        rows.append(RawRow(where, number, values))
    return rows


def _csv_header(header: list[str], problems: Problems) -> list[str | None]:
    """Column names mapped to field names; None for an unknown column (reported)."""
    def add(message: str) -> None:
        problems.add(_("第 1 行"), message, 1)

    columns: list[str | None] = []
    for cell in header:
        key = CSV_COLUMNS.get(cell.strip().lower())
        if key is None:
            add(_("未知的列 %(col)r（可用列：%(cols)s）") % {
                "col": cell, "cols": ", ".join(dict.fromkeys(CSV_COLUMNS.values())),
            })
        elif key in columns:
            add(_("列 %(col)s 重复") % {"col": key})
        columns.append(key)
    missing = [key for key in REQUIRED_CSV_COLUMNS if key not in columns]
    if missing:
        add(_("缺少列 %(cols)s") % {"cols": ", ".join(missing)})
    return columns


def _csv_rows(text: str, problems: Problems) -> list[RawRow]:
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))  # geometry cells can be large
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[RawRow] = []
    try:
        header = next(reader, None)
        if header is None:
            raise AreaImportError([_("文件为空")])
        columns = _csv_header(header, problems)
        end = reader.line_num
        for cells in reader:
            line, end = end + 1, reader.line_num
            where = _("第 %(n)d 行") % {"n": line}
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                problems.add(where, _("字段数 %(got)d 多于表头的 %(want)d 列") % {
                    "got": len(cells), "want": len(columns),
                }, line)
                continue
            values = {key: cell for key, cell in zip(columns, cells, strict=False) if key}
            rows.append(RawRow(where, line, values))
    except csv.Error as error:
        problems.add(_("第 %(n)d 行") % {"n": reader.line_num},
                     _("CSV 格式错误：%(e)s") % {"e": error}, reader.line_num)
    return rows


# ---------------------------------------------------------------------------
# Checking one row on its own.


def _text(value: Any) -> str | None:
    """A text field: str stripped, int as digits, None as ""; None for anything else.

    NFKC turns full-width digits and letters (typed with a Chinese IME) into ASCII.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip()
    return None


def _code_form_problem(code: str) -> str:
    """What code_problem() cannot tell: Excel's mangling and non-ASCII digits."""
    if EXCEL_NUMBER.fullmatch(code):
        return _("编码 %(code)s 被 Excel 当成了数字，请把编码列设为文本后重新导出") % {"code": code}
    if not code.isascii():
        return _("编码只能包含数字 0-9，实际为 %(code)r") % {"code": code}
    return ""


def _households(value: Any) -> tuple[int | None, str]:
    """(households or None when not given, problem)."""
    text = _text(value)
    if text == "":
        return None, ""
    bad = _("户数应为非负整数，实际为 %(v)r") % {"v": value}
    if text is None or not (text.isascii() and text.isdigit()):
        return None, bad
    number = int(text)
    return (number, "") if number <= HOUSEHOLDS_MAX else (None, bad)


def _parse_geometry(value: Any) -> BaseGeometry:
    if isinstance(value, dict):
        return shape(value)
    text = str(value).strip()
    if text.startswith("{"):
        return shape(json.loads(text))
    return shapely.from_wkt(text)


def _geometry(value: Any) -> tuple[BaseGeometry | None, str]:
    """(geometry or None when not given, problem)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    if not isinstance(value, dict | str):
        return None, _("边界应为 GeoJSON 几何对象")
    try:
        geom = _parse_geometry(value)
    except (ShapelyError, ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        return None, _("边界无法解析：%(e)s") % {"e": error}
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None, _("边界应为 Polygon 或 MultiPolygon，实际为 %(t)s") % {"t": geom.geom_type}
    if geom.is_empty:
        return None, _("边界为空")
    return geom, _coordinate_problem(geom) or _validity_problem(geom)


def _coordinate_problem(geom: BaseGeometry) -> str:
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        return _("边界坐标含非数值")
    lons, lats = coords[:, 0], coords[:, 1]
    if lons.min() < -180 or lons.max() > 180:
        return _("经度应在 -180 到 180 之间（是否把经纬度写反了？）")
    if lats.min() < -90 or lats.max() > 90:
        return _("纬度应在 -90 到 90 之间（是否把经纬度写反了？）")
    return ""


# GEOS's reasons for invalidity, in Chinese; "Self-intersection[121.305 28.305]".
GEOS_REASONS = {
    "Self-intersection": N_("自相交"),
    "Ring Self-intersection": N_("边界环自相交"),
    "Too few points": N_("点数太少"),
    "Hole lies outside shell": N_("内洞在外环之外"),
    "Nested holes": N_("内洞相互嵌套"),
    "Nested shells": N_("多边形相互嵌套"),
    "Interior is disconnected": N_("内部不连通"),
    "Invalid Coordinate": N_("坐标无效"),
    "Ring is not closed": N_("边界环未闭合"),
    "Duplicate Rings": N_("边界环重复"),
}
GEOS_REASON = re.compile(r"(?P<reason>[^\[]+)(\[(?P<x>\S+) (?P<y>\S+)\])?")


def _validity_problem(geom: BaseGeometry) -> str:
    if shapely.is_valid(geom):
        return ""
    reason = shapely.is_valid_reason(geom)
    match = GEOS_REASON.fullmatch(reason)
    if match is None or match["reason"] not in GEOS_REASONS:
        return _("边界几何无效：%(reason)s") % {"reason": reason}
    text = _(GEOS_REASONS[match["reason"]])
    if match["x"]:
        text += _("（位置 %(x)s, %(y)s）") % {"x": match["x"], "y": match["y"]}
    return _("边界几何无效：%(reason)s") % {"reason": text}


def _to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """A 2-D GeoJSON geometry with plain lists, as the JSONField will give it back."""

    def rings(polygon: Polygon) -> list[list[list[float]]]:
        return [shapely.get_coordinates(ring).tolist()
                for ring in (polygon.exterior, *polygon.interiors)]

    if isinstance(geom, Polygon):
        return {"type": "Polygon", "coordinates": rings(geom)}
    return {"type": "MultiPolygon", "coordinates": [rings(part) for part in geom.geoms]}


def _record(row: RawRow, problems: Problems) -> Record | None:
    """Check the fields of one row; None (with problems added) when it is unusable."""
    values, found = row.values, []
    code, name, parent = (_text(values.get(key)) for key in ("code", "name", "parent"))
    kind = _text(values.get("kind"))
    level_word = _text(values.get("level"))
    level = LEVEL_WORDS.get((level_word or "").lower())
    where = f"{row.where}（{code}）" if code else row.where
    if not code:
        found.append(_("缺少编码"))
    elif problem := _code_form_problem(code):
        found.append(problem)
    if level is None:
        found.append(_("未知层级 %(v)r（应为 city/town/village/grid 或 县级市/镇街/村社/网格）")
                     % {"v": values.get("level")})
    if not name:
        found.append(_("缺少名称"))
    elif len(name) > NAME_MAX:
        found.append(_("名称超过 %(n)d 个字") % {"n": NAME_MAX})
    if parent is None:
        found.append(_("上级编码应为文字"))
    if kind is None or len(kind) > KIND_MAX:
        found.append(_("类型应为不超过 %(n)d 个字的文字") % {"n": KIND_MAX})
    households, problem = _households(values.get("households"))
    found += [problem] if problem else []
    geom, problem = _geometry(values.get("geometry"))
    found += [problem] if problem else []
    for message in found:
        problems.add(where, message, row.position)
    if found:
        return None
    record = Record(where, row.where, row.position, code, name, level, parent or None,
                    kind or None, households)
    if geom is not None:
        record.boundary = _to_geojson(geom)
        point = geom.representative_point()
        record.center = (point.x, point.y)
    return record


# ---------------------------------------------------------------------------
# Checking the rows together, against each other and the database.


def _existing(codes: Iterable[str]) -> dict[str, Area]:
    codes = sorted(set(codes))
    found: dict[str, Area] = {}
    for start in range(0, len(codes), CHUNK):
        for area in Area.objects.filter(code__in=codes[start:start + CHUNK]):
            found[area.code] = area
    return found


def _unique(records: list[Record], problems: Problems) -> dict[str, Record]:
    by_code: dict[str, Record] = {}
    for record in records:
        first = by_code.get(record.code)
        if first is None:
            by_code[record.code] = record
        else:
            problems.add(record.where, _("编码 %(code)s 与%(first)s重复")
                         % {"code": record.code, "first": first.place}, record.position)
    return by_code


def _check_tree(record: Record, by_code: dict[str, Record], existing: dict[str, Area]) -> list[str]:
    found = []
    parent = record.parent_code
    if parent is None or record.level == Level.CITY:
        found.append(code_problem(record.code, record.level, parent, None))
    elif parent in by_code or parent in existing:
        parent_level = by_code[parent].level if parent in by_code else existing[parent].level
        found.append(code_problem(record.code, record.level, parent, parent_level))
    else:
        # Check the code's own form as if the parent were right, then report it missing.
        found.append(code_problem(record.code, record.level, parent, PARENT_LEVEL[record.level]))
        found.append(_("上级区域 %(code)s 不存在（文件和数据库中都没有）") % {"code": parent})
    current = existing.get(record.code)
    if current is not None and current.level != record.level:
        found.append(_("编码 %(code)s 已存在，层级为%(level)s") % {
            "code": record.code, "level": Level(current.level).label,
        })
    has_boundary = record.boundary is not None or (current is not None and current.boundary)
    if record.level in NEEDS_BOUNDARY and not has_boundary:
        found.append(_("%(level)s必须有边界") % {"level": Level(record.level).label})
    return [message for message in found if message]


def _check(rows: list[RawRow], problems: Problems) -> tuple[list[Record], dict[str, Area]]:
    records = [record for row in rows if (record := _record(row, problems)) is not None]
    by_code = _unique(records, problems)
    wanted = set(by_code) | {r.parent_code for r in records if r.parent_code}
    existing = _existing(wanted)
    for record in by_code.values():
        for message in _check_tree(record, by_code, existing):
            problems.add(record.where, message, record.position)
    if not rows and not problems:
        raise AreaImportError([_("文件中没有区域")])
    return list(by_code.values()), existing


# ---------------------------------------------------------------------------
# Writing.


UPDATE_FIELDS = ["name", "kind", "parent", "households", "boundary", "center_lon", "center_lat"]


def _apply(area: Area, record: Record, parent_id: int | None) -> None:
    area.name = record.name
    area.parent_id = parent_id
    if record.kind is not None:
        area.kind = record.kind
    if record.households is not None:
        area.households = record.households
    if record.boundary is not None:
        area.boundary = record.boundary
        area.center_lon, area.center_lat = record.center or (None, None)


def _snapshot(area: Area) -> tuple[Any, ...]:
    return tuple(getattr(area, name if name != "parent" else "parent_id") for name in UPDATE_FIELDS)


def _write(records: list[Record], existing: dict[str, Area]) -> ImportReport:
    report = ImportReport()
    ids = {code: area.pk for code, area in existing.items()}
    for level in LEVEL_ORDER:
        new: list[Area] = []
        for record in sorted((r for r in records if r.level == level), key=lambda r: r.code):
            parent_id = ids[record.parent_code] if record.parent_code else None
            area = existing.get(record.code)
            if area is None:
                area = Area(code=record.code, level=record.level)
                _apply(area, record, parent_id)
                new.append(area)
                continue
            before = _snapshot(area)
            _apply(area, record, parent_id)
            if _snapshot(area) == before:
                report.unchanged += 1
            else:
                area.save(update_fields=UPDATE_FIELDS)
                report.updated += 1
            report.codes.append(record.code)
        Area.objects.bulk_create(new, batch_size=CHUNK)
        ids.update(_ids_of(new))
        report.created += len(new)
        report.codes += [area.code for area in new]
    return report


def _ids_of(areas: list[Area]) -> dict[str, int]:
    """Primary keys of freshly bulk-created areas (looked up if the backend gave none)."""
    ids = {area.code: area.pk for area in areas if area.pk is not None}
    missing = [area.code for area in areas if area.pk is None]
    for start in range(0, len(missing), CHUNK):
        chunk = missing[start:start + CHUNK]
        ids.update(Area.objects.filter(code__in=chunk).values_list("code", "id"))
    return ids


def import_areas(path_or_file: str | Path | IO[Any], fmt: str | None = None) -> ImportReport:
    """Import areas from a GeoJSON FeatureCollection or a CSV file (path or open file).

    Raises AreaImportError listing every problem; then nothing has been written.
    """
    text, name = _read(path_or_file)
    fmt = _format(fmt, name, text)
    problems = Problems()
    rows = _geojson_rows(text, problems) if fmt == "geojson" else _csv_rows(text, problems)
    with transaction.atomic():
        records, existing = _check(rows, problems)
        if problems:
            raise AreaImportError(problems.messages())
        report = _write(records, existing)
        transaction.on_commit(locate.invalidate)
    return report
