"""How cases look to residents: masked names, plain-word timelines, grid outlines."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from linge.areas.models import Area
from linge.cases.models import State
from linge.cases.timeline import Step, mask_name, step_text, timeline

__all__ = ["Step", "mask_name", "step_text", "timeline", "team_of", "outline",
           "plain_state"]


def team_of(grid: Area) -> list[tuple[str, str, str]]:
    """(duty, name, phone) of the grid team, 网格长 first; staff phones are public."""
    from linge.people.models import Duty, Membership, UnitKind

    order = {duty: i for i, duty in enumerate(Duty.values)}
    rows = sorted(
        Membership.objects.filter(unit__area=grid, unit__kind=UnitKind.GRID_TEAM)
        .select_related("user"),
        key=lambda m: (order.get(m.duty, 99), m.user.display_name),
    )
    return [(m.get_duty_display(), m.user.display_name or m.user.username, m.user.phone)
            for m in rows]


# States in the words residents use. The workbench's names (待派遣, 待核查) say what staff
# must do next; a resident wants to know where the problem is.
PLAIN_STATES = {
    State.SUBMITTED: _("已提交，待受理"),
    State.ACCEPTED: _("网格办理中"),
    State.ESCALATED: _("已上报镇街"),
    State.DISPATCHED: _("部门办理中"),
    State.VERIFYING: _("镇街核查中"),
    State.SUSPENDED: _("暂缓办理"),
    State.RESOLVED: _("已办好，待评价"),
    State.CLOSED: _("已办结"),
    State.REJECTED: _("不予受理"),
    State.MERGED: _("已合并办理"),
}


def plain_state(state: str) -> str:
    return str(PLAIN_STATES.get(state, state))


@dataclass(frozen=True)
class Shape:
    code: str
    name: str
    path: str  # SVG path data in the outline's viewBox


def boundary_rings(boundary: dict | None) -> list[list[list[float]]]:
    if not boundary:
        return []
    if boundary.get("type") == "Polygon":
        return [boundary["coordinates"][0]]
    if boundary.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in boundary["coordinates"]]
    return []


def outline(grids: list[Area], size: float = 300.0) -> tuple[list[Shape], str]:
    """SVG paths for the grids' outlines, fitted into a size × size box (north up)."""
    rings = {g.pk: boundary_rings(g.boundary) for g in grids}
    points = [p for ring_list in rings.values() for ring in ring_list for p in ring]
    if not points:
        return [], f"0 0 {size:g} {size:g}"
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    span = max(east - west, north - south) or 1.0
    scale = (size - 10) / span

    def xy(p: list[float]) -> str:
        return f"{5 + (p[0] - west) * scale:.1f},{5 + (north - p[1]) * scale:.1f}"

    shapes = []
    for grid in grids:
        parts = ["M" + " L".join(xy(p) for p in ring) + "Z" for ring in rings[grid.pk]]
        if parts:
            shapes.append(Shape(grid.code, grid.name, "".join(parts)))
    width = 10 + (east - west) * scale
    height = 10 + (north - south) * scale
    return shapes, f"0 0 {width:.0f} {height:.0f}"
