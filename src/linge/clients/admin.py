from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from linge.clients import keys
from linge.clients.models import ApiKey, Channel


class ApiKeyForm(forms.ModelForm):
    channel_choices = forms.MultipleChoiceField(
        label=_("可用接口"), choices=Channel.choices, widget=forms.CheckboxSelectMultiple,
        initial=[Channel.OPEN311])

    class Meta:
        model = ApiKey
        fields = ["name", "rate_per_minute", "user"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["channel_choices"].initial = self.instance.channel_list


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "channels", "rate_per_minute", "user", "created_at",
                    "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]
    raw_id_fields = ["user"]

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row says which client it was

    def save_model(self, request, obj, form, change):
        channels = form.cleaned_data["channel_choices"]
        if change:
            obj.channels = ",".join(channels)
            obj.save()
            return
        made = keys.create(obj.name, channels=channels, rate_per_minute=obj.rate_per_minute,
                           user=obj.user)
        obj.pk = made.api_key.pk
        obj.prefix = made.api_key.prefix
        obj.created_at = made.api_key.created_at
        self.message_user(request, _("新密钥（只显示这一次，请立即交给客户端）：%(key)s")
                          % {"key": made.key}, messages.WARNING)

    @admin.action(description=_("吊销所选密钥"))
    def revoke(self, request, queryset):
        for row in queryset:
            keys.revoke(row)
