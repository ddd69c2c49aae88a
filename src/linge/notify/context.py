"""Template context: the signed-in user's unread messages, counted only when shown."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from linge.notify.models import Channel, Outbox, Status


def unread_messages(request: HttpRequest) -> dict:
    def count() -> int:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return 0
        return Outbox.objects.filter(recipient=user, channel=Channel.INBOX, status=Status.SENT,
                                     read_at=None).count()

    return {"unread_messages": SimpleLazyObject(count)}
