"""View decorators shared by every staff screen (workbench, visits, hot issues, cockpit)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from linge.people.roles import roles_of


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous → the login page; a logged-in non-staff user (a resident) → 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('workbench:login')}?next={request.get_full_path()}")
        if not roles_of(request.user).is_staff_member:
            raise PermissionDenied(_("工作台仅供工作人员使用"))
        return view(request, *args, **kwargs)

    return wrapper
