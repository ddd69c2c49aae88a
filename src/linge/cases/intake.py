"""One way in for every channel: the resident page (QR or not), a staff patrol, a
household visit, the 12345 hotline, a case handed down (上级交办), Open311 and the API.

Each channel has its own namespace of submit keys, so a key a client chose can never
collide with another channel's; a retried submit returns the case the key already
made. Photos are checked before anything is written, stored just before the case,
and removed again when the submit is refused, fails, or finds the case made already.
A process killed between storing and committing leaves files that no case references;
`cases.jobs.sweep_orphan_photos` removes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from linge.areas.locate import as_geometry, locate
from linge.areas.models import Area
from linge.cases import workflow
from linge.cases.limits import MAX_PHOTOS
from linge.cases.models import Case, Category, Source
from linge.cases.photos import PhotoRejected, PreparedPhoto, discard, prepare_all, save_all
from linge.cases.transitions import NEW, Action
from linge.people.models import User
from linge.people.roles import Actor
from linge.prepared import Prepared

# Submit-key namespaces. A 12345 ticket number is itself the key: one case per ticket,
# however often the operator enters it.
NAMESPACE: dict[str, str] = {
    Source.QR: "r",
    Source.RESIDENT_PAGE: "r",
    Source.PATROL: "p",
    Source.VISIT: "v",
    Source.HOTLINE: "12345",
    Source.HIGHER: "x",
    Source.OPEN311: "o311",
}
# A client's key: letters, digits, - and _ (fullmatch: a trailing newline is refused).
CLIENT_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_TICKET = 40


@dataclass
class Report:
    """What any channel says about a problem."""

    category: Category | int
    description: str
    grid: Area
    lon: float | None = None
    lat: float | None = None
    address: str = ""
    reporter_phone: str = ""
    anonymous: bool = False
    hotline_ticket: str = ""  # 12345: the platform's ticket number
    required_by: date | None = None  # 上级交办: the day it must be done by
    from_level: str = ""  # 上级交办: who handed it down


def valid_key(key: str) -> bool:
    return CLIENT_KEY.fullmatch(key) is not None


def namespaced(source: str, key: str | None, *, ticket: bool = False) -> str | None:
    if not key:
        return None
    fine = (len(key) <= MAX_TICKET and key.isprintable()) if ticket else valid_key(key)
    if not fine:
        raise workflow.WorkflowError(NEW, Action.SUBMIT, _("页面已过期，请刷新后重新提交"),
                                     about_input=True)
    return f"{NAMESPACE[source]}:{key}"


def find(source: str, key: str | None) -> Case | None:
    """The case a submit key of this channel already made, if any."""
    full = namespaced(source, key)
    return submitted(full) if full else None


_CASE_BY_KEY = Prepared(
    lambda key: Case.objects.filter(submit_key=key).values_list("pk", flat=True)[:1],
    "\x00submit-key")


def submitted(full_key: str) -> Case | None:
    """The case a namespaced submit key made. Nearly every key is new: the look-up that
    finds nothing costs one small compiled query, and only a retry loads the case."""
    pk = _CASE_BY_KEY.first(full_key)
    return Case.objects.filter(pk=pk).first() if pk is not None else None


def prepare(files: Sequence) -> list[PreparedPhoto]:
    """Decode and check uploaded photos in memory against one budget for the request
    (cases.photos.Budget); nothing is written. PhotoRejected."""
    if len(files) > MAX_PHOTOS:
        raise PhotoRejected(_("最多上传 9 张照片"))
    return prepare_all(files)


def ticket_of(text: str) -> str:
    return "".join((text or "").split()).upper()


def end_of_day(day: date) -> datetime:
    """A date a higher level names means the end of that working day."""
    return datetime.combine(day, time(23, 59), timezone.get_current_timezone())


def _description(source: str, report: Report) -> str:
    text = report.description
    if source == Source.HOTLINE and report.hotline_ticket:
        text = f"{text}\n（12345工单号：{ticket_of(report.hotline_ticket)}）"
    if source == Source.HIGHER and report.required_by is not None:
        text = _("%(text)s\n（%(unit)s交办，要求 %(date)s 前办结）") % {
            "text": text, "unit": report.from_level, "date": report.required_by.isoformat()}
    return text


def _metres_to(grid: Area, lon: float, lat: float) -> float:
    """Distance in metres from (lon, lat) to the grid's outline (0 inside), on a local
    flat projection: exact enough at the few hundred metres that matter here."""
    import math

    from shapely import Point
    from shapely.affinity import scale

    geometry = as_geometry(grid.boundary)
    kx = 111_320 * math.cos(math.radians(lat))
    ky = 110_540
    return scale(geometry, kx, ky, origin=(0, 0)).distance(Point(lon * kx, lat * ky))


def check_position(report: Report) -> None:
    """A position given with a report must lie in the chosen grid or within
    LINGE_LOCATE_FALLBACK_M of it: lon=0, lat=0 for a Wenling grid is a slip, not a place.
    A grid without an outline cannot be checked."""
    if report.lon is None or report.lat is None or not report.grid.boundary:
        return
    lon, lat = report.lon, report.lat
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise workflow.WorkflowError(NEW, Action.SUBMIT, _("位置坐标无效"), about_input=True)
    found = locate(lon, lat)
    if found.grid_id == report.grid.pk:
        return
    limit = settings.LINGE_LOCATE_FALLBACK_M
    if _metres_to(report.grid, lon, lat) <= limit:
        return
    raise workflow.WorkflowError(NEW, Action.SUBMIT, _(
        "所报位置不在「%(grid)s」内，也不在其 %(m)s 米以内，请核对位置或所选网格"
    ) % {"grid": report.grid.name, "m": int(limit)}, about_input=True)


def submit(
    who: Actor | User | None, source: str, report: Report, *, key: str | None = None,
    photos: Sequence[PreparedPhoto] = (), now: datetime | None = None,
    key_unused: bool = False, also: Callable[[workflow.Submitted], object] | None = None,
) -> workflow.Submitted:
    """Register the report as a case through the workflow, or return the case its key
    already made (`created` False). Raises WorkflowError, changing nothing.

    `key_unused`: the caller has just looked the key up with `find` and found no case,
    so it is not looked up again (a concurrent retry is still caught: the key is unique
    in the database and the workflow answers with the case that won). `also`: see
    `workflow.submit`."""
    if source not in NAMESPACE:
        raise workflow.WorkflowError(NEW, Action.SUBMIT, _("未知的来源"))
    ticket = source == Source.HOTLINE and bool(ticket_of(report.hotline_ticket))
    if ticket:
        key = ticket_of(report.hotline_ticket)
    full_key = namespaced(source, key, ticket=ticket)
    if full_key and not key_unused:
        existing = submitted(full_key)
        if existing is not None:
            return workflow.Submitted(existing, created=False)
    check_position(report)
    stored = save_all(photos)
    try:
        done = workflow.submit(
            who, category=report.category, description=_description(source, report),
            grid=report.grid, source=source, lon=report.lon, lat=report.lat,
            address=report.address, reporter_phone=report.reporter_phone,
            anonymous=report.anonymous, submit_key=full_key, photos=stored, now=now,
            required_by=end_of_day(report.required_by) if report.required_by else None,
            also=also,
        )
    except BaseException:
        discard(stored)
        raise
    if not done.created:
        discard(stored)  # a concurrent retry made the case first, with its own photos
    return done
