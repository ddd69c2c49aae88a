"""Accounts, units (grid teams, villages, town platforms, offices, departments) and duties."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """Staff log in with username and password; residents are known by phone number."""

    display_name = models.CharField(_("姓名"), max_length=32, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True, db_index=True)
    is_resident = models.BooleanField(_("居民"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=models.Q(is_resident=True), name="one_resident_per_phone"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.username


class Lane(models.Model):
    """A lane of the town platform (综治工作, 市场监管, 综合执法, 便民服务); configurable."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=32, unique=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("平台条线")
        verbose_name_plural = _("平台条线")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    GRID_TEAM = "grid_team", _("网格团队")
    VILLAGE = "village", _("村社")
    TOWN_PLATFORM = "town_platform", _("镇街四平台")
    OFFICE = "office", _("镇街科室")
    DEPARTMENT = "department", _("市级部门")
    COMMAND = "command", _("指挥中心")


class Unit(models.Model):
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=UnitKind.choices, db_index=True)
    # Grid teams, villages and town platforms belong to their area; offices to their
    # town; departments and the command centre to the city.
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="units", verbose_name=_("区域")
    )
    lane = models.ForeignKey(
        Lane, on_delete=models.PROTECT, null=True, blank=True, related_name="units",
        verbose_name=_("条线"),
    )
    phone = models.CharField(_("电话"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["area__code", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["area"],
                condition=models.Q(kind__in=["grid_team", "village", "town_platform"]),
                name="one_team_village_platform_per_area",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Duty(models.TextChoices):
    GRID_LEADER = "grid_leader", _("网格长")
    FULL_TIME = "full_time", _("专职网格员")
    PART_TIME = "part_time", _("兼职网格员")
    GRID_GUIDE = "grid_guide", _("网格指导员")
    POLICE = "police", _("民警")
    VILLAGE_STAFF = "village_staff", _("村社干部")
    DISPATCHER = "dispatcher", _("派遣员")
    HANDLER = "handler", _("部门经办人")
    LEADER = "leader", _("领导")
    ADMIN = "admin", _("管理员")


# Which duties make sense in which unit; membership validation uses it.
DUTIES_BY_UNIT_KIND: dict[str, set[str]] = {
    UnitKind.GRID_TEAM: {
        Duty.GRID_LEADER, Duty.FULL_TIME, Duty.PART_TIME, Duty.GRID_GUIDE, Duty.POLICE,
    },
    UnitKind.VILLAGE: {Duty.VILLAGE_STAFF, Duty.LEADER},
    UnitKind.TOWN_PLATFORM: {Duty.DISPATCHER, Duty.LEADER},
    UnitKind.OFFICE: {Duty.HANDLER, Duty.LEADER},
    UnitKind.DEPARTMENT: {Duty.HANDLER, Duty.LEADER},
    UnitKind.COMMAND: {Duty.LEADER, Duty.ADMIN},
}


class Membership(models.Model):
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("用户")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("单位")
    )
    duty = models.CharField(_("职责"), max_length=16, choices=Duty.choices)

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "duty"], name="one_duty_once_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.get_duty_display()}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        allowed = DUTIES_BY_UNIT_KIND.get(self.unit.kind, set())
        if self.duty not in allowed:
            raise ValidationError(
                {"duty": _("该单位类型不能设置此职责")}
            )


class LoginAttempt(models.Model):
    """One try of a username and password, by any way in (workbench, admin, API token)."""

    username = models.CharField(_("用户名"), max_length=150)
    ip = models.GenericIPAddressField(_("地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"))
    succeeded = models.BooleanField(_("成功"), default=False)

    class Meta:
        verbose_name = _("登录尝试")
        verbose_name_plural = _("登录尝试")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["username", "at"], name="login_attempt_user"),
            models.Index(fields=["ip", "at"], name="login_attempt_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.ip} {self.at:%Y-%m-%d %H:%M}"
