"""Forms of the workbench: the entry forms (巡查, 12345, 上级交办). The login form with
its lock is `people.auth`'s; the forms of the moves on a case are declared in
`cases.forms`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linge.areas.models import Area
from linge.cases.forms import CategoryField, TextField
from linge.cases.limits import MAX_ADDRESS, MAX_DESCRIPTION


class NewCaseForm(forms.Form):
    grid = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("网格"))
    category = CategoryField()
    description = TextField(label=_("问题描述"), max_length=MAX_DESCRIPTION, rows=4,
                            required=True)
    address = forms.CharField(label=_("地址"), max_length=MAX_ADDRESS, required=False)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180,
                           max_value=180)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90,
                           max_value=90)
    submit_key = forms.RegexField(regex=r"^[A-Za-z0-9_-]{8,64}\Z", required=False,
                                  widget=forms.HiddenInput)

    def __init__(self, *args: Any, grids, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids
        self.fields["grid"].label_from_instance = lambda area: area.full_name


class HigherForm(NewCaseForm):
    required_by = forms.DateField(label=_("交办要求办结日期"),
                                  widget=forms.DateInput(attrs={"type": "date"}))
    from_level = forms.CharField(label=_("交办单位"), max_length=40)

    def clean_required_by(self):
        value = self.cleaned_data["required_by"]
        if value < timezone.localdate():
            raise ValidationError(_("要求办结日期不能早于今天"))
        return value


class HotlineForm(NewCaseForm):
    caller_phone = forms.RegexField(regex=r"^1\d{10}$|^0\d{9,11}$", label=_("来电号码"),
                                    error_messages={"invalid": _("请输入正确的电话号码")})
    hotline_ticket = forms.CharField(label=_("12345工单号"), max_length=40, required=False)
