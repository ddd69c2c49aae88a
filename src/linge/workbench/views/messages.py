"""站内消息: what the worker delivered to this user (moves, deadline reminders)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from linge.notify.models import Channel, Outbox, Status
from linge.people.decorators import staff_required
from linge.plaintext import small_int


@staff_required
@require_http_methods(["GET", "POST"])
def inbox_messages(request: HttpRequest) -> HttpResponse:
    rows = Outbox.objects.filter(recipient=request.user, channel=Channel.INBOX,
                                 status=Status.SENT)
    if request.method == "POST":
        # Reading is not marking: a GET (a prefetch, a reload) never marks anything read.
        target = rows.filter(read_at__isnull=True)
        one = request.POST.get("id", "")
        if one:
            pk = small_int(one)
            target = target.filter(pk=pk) if pk is not None else target.none()
        target.update(read_at=timezone.now())
        return redirect("workbench:messages")
    page = Paginator(rows.order_by("-created_at"), 50).get_page(request.GET.get("page"))
    return render(request, "workbench/messages.html", {"page": page})
