"""Template context: the signed-in user's unread messages, counted only when shown."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from linge.notify.models import Channel, Outbox, Status
from linge.prepared import Prepared

# Every staff page shows it: compiled once per process (linge/prepared.py).
_UNREAD = Prepared(
    lambda user_id: Outbox.objects.filter(recipient_id=user_id, channel=Channel.INBOX,
                                          status=Status.SENT, read_at=None)
    .values("recipient_id").annotate(n=Count("pk")).values_list("n", flat=True),
    -7_000_101)


def unread_messages(request: HttpRequest) -> dict:
    def count() -> int:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return 0
        return sum(_UNREAD(user.pk))

    return {"unread_messages": SimpleLazyObject(count)}
