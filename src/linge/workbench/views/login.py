"""Staff login with a lock against guessing, and logout."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse

from linge.cases import policy
from linge.workbench.forms import LockingAuthenticationForm


class LoginView(auth_views.LoginView):
    template_name = "workbench/login.html"
    authentication_form = LockingAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        # Leaders (领导 of a town, village or the city) land on their screens.
        if policy.lands_on_cockpit(self.request.user):
            return reverse("cockpit:home")
        return reverse("workbench:inbox")


class LogoutView(auth_views.LogoutView):
    next_page = "workbench:login"
