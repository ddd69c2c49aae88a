"""Staff sessions end after a working day without a request.

Residents keep Django's session length (SESSION_COOKIE_AGE, two weeks: a phone that
reported a problem should still follow it next week). A staff member's session, and an
administrator's, expires LINGE_STAFF_SESSION_HOURS after their last request: the
expiry is set on each login and renewed at most every REFRESH seconds (so a busy inbox
does not write its session on every click).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

SEEN = "linge_seen"  # session: when the expiry was last renewed (epoch seconds)
REFRESH = 300


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if session is None or user is None or not user.is_authenticated or user.is_resident:
            return response
        age = settings.LINGE_STAFF_SESSION_HOURS * 3600
        now = int(time.time())
        seen = session.get(SEEN)
        if session.get("_session_expiry") != age or not isinstance(seen, int) or (
                now - seen >= REFRESH):
            session.set_expiry(age)
            session[SEEN] = now
        return response
