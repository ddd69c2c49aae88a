"""Forms of the visits pages: the household register upload and the visit log."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linge.cases import workflow
from linge.cases.forms import CategoryField


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("住户名册（CSV）"))


class VisitForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("走访情况"), max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    follow_up_on = forms.DateField(label=gettext_lazy("回访日期（选填）"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    found_problem = forms.BooleanField(label=gettext_lazy("发现问题，登记为案件"), required=False)
    category = CategoryField(required=False)
    problem = forms.CharField(label=gettext_lazy("问题描述"), required=False,
                              max_length=workflow.MAX_DESCRIPTION,
                              widget=forms.Textarea(attrs={"rows": 3}))
    submit_key = forms.CharField(required=False, max_length=48, widget=forms.HiddenInput)

    def clean_follow_up_on(self) -> date | None:
        value = self.cleaned_data.get("follow_up_on")
        if value and value < timezone.localdate():
            raise forms.ValidationError(_("回访日期不能早于今天"))
        return value

    def clean(self) -> dict:
        data = super().clean()
        if data.get("found_problem") and not (data.get("category") and data.get("problem")):
            raise forms.ValidationError(_("登记问题时请选择分类并填写问题描述"))
        return data
