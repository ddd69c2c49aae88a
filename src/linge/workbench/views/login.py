"""Staff login with a lock against guessing, and logout."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse

from linge.cases import policy
from linge.clients import limits
from linge.net import client_ip
from linge.people.auth import LockingAuthenticationForm


class LoginView(auth_views.LoginView):
    template_name = "workbench/login.html"
    authentication_form = LockingAuthenticationForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # Guesses from one address are slowed whatever the username (the lock is per
        # username and address; this throttle is per address alone).
        try:
            limits.count_all([(limit, client_ip(request)) for limit in limits.LOGINS])
        except limits.Throttled as over:
            return limits.too_many(request, over.retry_after)
        return super().post(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        # Leaders (领导 of a town, village or the city) land on their screens.
        if policy.lands_on_cockpit(self.request.user):
            return reverse("cockpit:home")
        return reverse("workbench:inbox")


class LogoutView(auth_views.LogoutView):
    next_page = "workbench:login"
