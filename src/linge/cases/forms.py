"""The form of each move on a case: its fields, their limits, and the workflow arguments.

Every page and API that offers a move binds the form its declaration names
(`cases.actions`), so a note has the same limit and cleaning wherever it is typed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case as Case_
from django.db.models import IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _

from linge.areas.models import Area, Level
from linge.cases import policy
from linge.cases.limits import MAX_PHOTOS, MAX_REASON
from linge.cases.models import AttachmentKind, Case, Category, Rating, State
from linge.cases.nearby import distance_m
from linge.people.models import Lane, Unit, UnitKind, User
from linge.people.roles import GRID_HANDS
from linge.plaintext import strip_controls


class TextField(forms.CharField):
    """Free text typed by a person: control characters (NUL, ESC, bidi overrides) go,
    and the limit is checked on what remains.

    `required` marks the box for the browser; the workflow checks it again and names
    what is missing ("请填写不予受理的理由"), which a form-level message could not."""

    def __init__(self, *, label, required: bool = False, max_length: int = MAX_REASON,
                 rows: int = 2) -> None:
        attrs: dict = {"rows": rows}
        if required:
            attrs["required"] = True
        super().__init__(label=label, required=False, max_length=max_length,
                         widget=forms.Textarea(attrs=attrs))

    def to_python(self, value: Any) -> str:
        return strip_controls(super().to_python(value) or "").strip()


class CategoryField(forms.ModelChoiceField):
    """A 小类 picked from the active tree, each labelled '大类 / 小类' (`Category.label`):
    the same list and the same words on every form."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("问题分类"))
        super().__init__(queryset=Category.objects.filter(
            active=True, parent__isnull=False, parent__active=True,
        ).select_related("parent").order_by("code"), **kwargs)

    def label_from_instance(self, obj: Category) -> str:
        return obj.label


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=MultipleFileInput(attrs={"accept": "image/*"}), **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if self.required and not files:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(files) > MAX_PHOTOS:
            raise ValidationError(_("最多上传 9 张照片"), code="too_many")
        return files


class ActionForm(forms.Form):
    """A move's form, bound to the case and the person making it."""

    def __init__(self, data=None, files=None, *, case: Case, user: User | None) -> None:
        super().__init__(data, files)
        self.case = case
        self.user = user

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of the workflow function, from cleaned data."""
        return dict(self.cleaned_data)


class NoForm(ActionForm):
    pass


class NoteForm(ActionForm):
    note = TextField(label=_("说明（选填）"))


class ReasonForm(ActionForm):
    reason = TextField(label=_("理由"), required=True)


class CommentForm(ActionForm):
    comment = TextField(label=_("意见"))


class RateForm(CommentForm):
    rating = forms.ChoiceField(label=_("评价"), choices=Rating.choices)
    field_order = ["rating", "comment"]


class MergeForm(NoteForm):
    """Merge into one of the open cases of the same category nearby (offered as a
    list, nearest first), or into any case the user may see, by its number."""

    CANDIDATE_DAYS = 60
    CANDIDATE_LIMIT = 20

    into = forms.ChoiceField(label=_("合并到（同类未办结问题，近者在前）"), required=False)
    into_number = forms.CharField(label=_("或输入案件编号"), max_length=20, required=False,
                                  widget=forms.TextInput(attrs={"placeholder": "20261129-000001",
                                                                "inputmode": "numeric"}))
    field_order = ["into", "into_number", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._candidates = self.candidates()
        self.fields["into"].choices = [("", _("请选择"))] + [
            (c.number, candidate_label(c, d)) for c, d in self._candidates]
        if not self._candidates:
            self.fields["into"].help_text = _("本村社近两个月没有同类未办结的问题；可输入案件编号。")

    def candidates(self) -> list[tuple[Case, float | None]]:
        """(case, metres or None): open cases of the same category in the same village
        from the last two months, which the user may see, nearest first (newest first
        where a position is missing)."""
        since = self.case.created_at - timedelta(days=self.CANDIDATE_DAYS)
        rows = list(policy.visible_cases(self.user).filter(
            village_id=self.case.village_id, category_id=self.case.category_id,
            created_at__gte=since, state__in=MERGEABLE_STATES,
        ).exclude(pk=self.case.pk).order_by("-created_at")[:200])
        found = []
        for c in rows:
            d = None
            if None not in (self.case.lon, self.case.lat, c.lon, c.lat):
                d = distance_m(self.case.lon, self.case.lat, c.lon, c.lat)
            found.append((c, d))
        found.sort(key=lambda pair: (pair[1] is None, pair[1] or 0,
                                     -pair[0].created_at.timestamp()))
        return found[:self.CANDIDATE_LIMIT]

    def clean(self) -> dict:
        data = super().clean()
        number = (data.get("into_number") or "").strip()
        chosen = data.get("into") or ""
        if number:
            try:
                data["target"] = policy.access_case(self.user, number)
            except Exception:  # noqa: BLE001 - Http404: the same answer as a wrong number
                self.add_error("into_number", _("目标案件不存在或无权查看"))
        elif chosen:
            by_number = {c.number: c for c, _d in self._candidates}
            data["target"] = by_number[chosen]  # the choice field admits only these
        else:
            raise ValidationError(_("请选择要合并到的案件，或输入其编号"))
        return data

    def arguments(self) -> dict[str, Any]:
        return {"into": self.cleaned_data["target"], "note": self.cleaned_data["note"]}


# States a case can be merged into: open, and not waiting for its reporter's rating.
MERGEABLE_STATES = (State.SUBMITTED, State.ACCEPTED, State.ESCALATED, State.DISPATCHED,
                    State.VERIFYING, State.SUSPENDED)


def candidate_label(case: Case, metres: float | None) -> str:
    """'20261129-000001 · 上墩村12号 · 相距 35 米 · 处理中' — what tells duplicates apart."""
    where = case.address or case.description[:16]
    parts = [case.number, where]
    if metres is not None:
        parts.append(_("相距 %(m)s 米") % {"m": round(metres)})
    parts.append(str(case.get_state_display()))
    return " · ".join(parts)


class TransferForm(ActionForm):
    grid = forms.ModelChoiceField(label=_("转办到网格"), queryset=Area.objects.none(),
                                  required=False)
    grid_code = forms.RegexField(label=_("或输入其他镇街的网格编码（15 位）"), regex=r"^\d{15}$",
                                 required=False, max_length=15)
    reason = TextField(label=_("理由"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = Area.objects.filter(
            level=Level.GRID, parent__parent_id=self.case.town_id
        ).exclude(pk=self.case.grid_id).select_related(*Area.NAME_PATH).order_by("code")
        self.fields["grid"].label_from_instance = lambda area: area.full_name

    def clean(self) -> dict:
        data = super().clean()
        code = data.get("grid_code")
        if code:
            # The problem lies in another town: any grid, by its code.
            grid = Area.objects.filter(level=Level.GRID, code=code).first()
            if grid is None:
                raise ValidationError(_("网格编码 %(c)s 不存在") % {"c": code})
            data["grid"] = grid
        elif not data.get("grid") and "grid_code" not in self.errors:
            raise ValidationError(_("请选择要转办的网格"))
        return data

    def arguments(self) -> dict[str, Any]:
        return {"grid": self.cleaned_data["grid"], "reason": self.cleaned_data["reason"]}


class AssignForm(ActionForm):
    assignee = forms.ModelChoiceField(label=_("处理人"), queryset=User.objects.none(),
                                      empty_label=_("请选择"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(
            memberships__unit__area_id=self.case.grid_id,
            memberships__unit__kind=UnitKind.GRID_TEAM,
            memberships__duty__in=GRID_HANDS,
        ).distinct().order_by("username")


class ResolveForm(ActionForm):
    note = TextField(label=_("处置情况（内部）"), required=True, rows=3)
    reply = TextField(label=_("答复群众（群众可见）"), required=True, rows=2)
    photos = PhotosField(label=_("处置后照片（选传）"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.case.category.photo_after_required:
            photos = self.fields["photos"]
            photos.label = _("处置后照片（必传）")
            # Required before submitting, unless a photo was attached at an earlier
            # resolve (a verification that failed): the workflow checks it again.
            if not self.case.attachments.filter(kind=AttachmentKind.AFTER).exists():
                photos.widget.attrs["required"] = True

    def arguments(self) -> dict[str, Any]:
        return {"note": self.cleaned_data["note"], "reply": self.cleaned_data["reply"]}


class DispatchForm(NoteForm):
    unit = forms.ModelChoiceField(label=_("承办单位"), queryset=Unit.objects.none(),
                                  empty_label="")
    lane = forms.ModelChoiceField(label=_("条线"), queryset=Lane.objects.all(), required=False,
                                  empty_label=None)
    field_order = ["unit", "lane", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lane_id = self.case.category.lane_id
        units = Unit.objects.filter(
            Q(kind=UnitKind.OFFICE, area_id=self.case.town_id) | Q(kind=UnitKind.DEPARTMENT)
        ).select_related("lane")
        # The category's lane first (the town's own office before the city's
        # department), then the rest; the first of the lane is offered ready to send.
        field = self.fields["unit"]
        field.queryset = units.annotate(
            other_lane=Case_(When(lane_id=lane_id, then=Value(0)), default=Value(1),
                             output_field=IntegerField()),
            city_level=Case_(When(kind=UnitKind.OFFICE, then=Value(0)), default=Value(1),
                             output_field=IntegerField()),
        ).order_by("other_lane", "city_level", "name")
        suggested = next((u for u in field.queryset if lane_id and u.lane_id == lane_id), None)
        if suggested is not None:
            field.initial = suggested.pk
        field.label_from_instance = (
            lambda unit: f"{unit.name}（{unit.lane.name}）" if unit.lane else unit.name)
        self.fields["lane"].initial = lane_id


class ExtensionForm(ActionForm):
    amount = forms.IntegerField(label=_("延时时长"), min_value=1, max_value=365)
    reason = TextField(label=_("理由"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit = self.case.category.get_resolve_unit_display()
        self.fields["amount"].label = f"{_('延时时长')}（{unit}）"
