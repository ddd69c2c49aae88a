"""The form of each move on a case: its fields, their limits, and the workflow arguments.

Every page and API that offers a move binds the form its declaration names
(`cases.actions`), so a note has the same limit and cleaning wherever it is typed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linge.areas.models import Area, Level
from linge.cases import policy
from linge.cases.limits import MAX_PHOTOS, MAX_REASON
from linge.cases.models import AttachmentKind, Case, Rating
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
    into = forms.CharField(label=_("合并到案件编号"), max_length=20,
                           widget=forms.TextInput(attrs={"placeholder": "20261129-000001",
                                                         "list": "merge-candidates"}))
    field_order = ["into", "note"]

    def candidates(self) -> list[Case]:
        """Open cases of the same category in the same grid: the likely originals."""
        return list(policy.visible_cases(self.user).filter(
            grid_id=self.case.grid_id, category_id=self.case.category_id,
        ).exclude(pk=self.case.pk).exclude(state__in=policy.NOT_PUBLIC_STATES).filter(
            closed_at__isnull=True, resolved_at__isnull=True,
        ).order_by("-created_at")[:10])

    def clean_into(self) -> Case:
        number = self.cleaned_data["into"].strip()
        try:
            return policy.access_case(self.user, number)
        except Exception:  # noqa: BLE001 - Http404: the same answer as a wrong number
            raise ValidationError(_("目标案件不存在或无权查看"), code="missing") from None


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
        self.fields["unit"].queryset = Unit.objects.filter(
            Q(kind=UnitKind.OFFICE, area_id=self.case.town_id) | Q(kind=UnitKind.DEPARTMENT)
        ).select_related("lane").order_by("kind", "name")
        self.fields["unit"].label_from_instance = (
            lambda unit: f"{unit.name}（{unit.lane.name}）" if unit.lane else unit.name)
        self.fields["lane"].initial = self.case.category.lane_id


class ExtensionForm(ActionForm):
    amount = forms.IntegerField(label=_("延时时长"), min_value=1, max_value=365)
    reason = TextField(label=_("理由"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit = self.case.category.get_resolve_unit_display()
        self.fields["amount"].label = f"{_('延时时长')}（{unit}）"
