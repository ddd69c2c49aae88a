"""Forms of the hot-issues pages: an item on the village's deliberation agenda, and
its outcome."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from linge.insights.hot import MAX_CASES


class AgendaForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("议题"), max_length=100)
    meeting_on = forms.DateField(label=gettext_lazy("恳谈日期"),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    village = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    category = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1,
                                  max_value=2**31 - 1)
    keywords = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)
    # Case numbers are 15 characters: room for every case of a cluster of MAX_CASES.
    numbers = forms.CharField(widget=forms.HiddenInput, required=False,
                              max_length=16 * MAX_CASES)


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label=gettext_lazy("恳谈结果"), max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 4}))
