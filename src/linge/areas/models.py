"""The area tree: city → town → village → grid, keyed by statistical division codes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    CITY = "city", _("县级市")
    TOWN = "town", _("镇街")
    VILLAGE = "village", _("村社")
    GRID = "grid", _("网格")


# Length of the code at each level: 6-digit county + 3 town + 3 village + 3 grid serial.
CODE_LENGTH = {Level.CITY: 6, Level.TOWN: 9, Level.VILLAGE: 12, Level.GRID: 15}
PARENT_LEVEL = {Level.TOWN: Level.CITY, Level.VILLAGE: Level.TOWN, Level.GRID: Level.VILLAGE}


def code_problem(code: str, level: str, parent_code: str | None, parent_level: str | None) -> str:
    """Return why (code, level) cannot sit under the parent, or "" when it can."""
    if level not in CODE_LENGTH:
        return f"未知层级 {level!r}"
    if not (code.isascii() and code.isdigit()) or len(code) != CODE_LENGTH[level]:
        return f"{Level(level).label}编码应为 {CODE_LENGTH[level]} 位数字，实际为 {code!r}"
    if level == Level.CITY:
        return "" if parent_code is None else "县级市不能有上级区域"
    if parent_code is None:
        return f"{Level(level).label}必须有上级区域"
    if parent_level != PARENT_LEVEL[level]:
        return f"{Level(level).label}的上级应为{Level(PARENT_LEVEL[level]).label}"
    if not code.startswith(parent_code):
        return f"编码 {code} 应以上级编码 {parent_code} 开头"
    return ""


class Area(models.Model):
    code = models.CharField(_("编码"), max_length=15, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=8, choices=Level.choices, db_index=True)
    kind = models.CharField(_("类型"), max_length=8, blank=True, help_text=_("镇/街道/村/社区"))
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("上级区域"),
    )
    # GeoJSON geometry (Polygon or MultiPolygon) in WGS-84 longitude/latitude.
    boundary = models.JSONField(_("边界"), null=True, blank=True)
    households = models.PositiveIntegerField(_("户数"), default=0)
    center_lon = models.FloatField(_("中心经度"), null=True, blank=True)
    center_lat = models.FloatField(_("中心纬度"), null=True, blank=True)

    class Meta:
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self) -> None:
        parent = self.parent
        problem = code_problem(
            self.code, self.level, parent.code if parent else None, parent.level if parent else None
        )
        if problem:
            raise ValidationError({"code": problem})

    def ancestor(self, level: str) -> Area | None:
        """The enclosing area at `level` (self included), walking up the tree."""
        area: Area | None = self
        while area is not None and area.level != level:
            area = area.parent
        return area

    # select_related() these on grids whose full_name is shown in a list: each step up
    # is otherwise one query per grid.
    NAME_PATH = ("parent__parent__parent",)

    @property
    def full_name(self) -> str:
        names = []
        area: Area | None = self
        while area is not None and area.level != Level.CITY:
            names.append(area.name)
            area = area.parent
        return "".join(reversed(names))
