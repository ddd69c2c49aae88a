"""Staff login with a lock against guessing, and logout."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse

from linge.workbench.forms import LockingAuthenticationForm


class LoginView(auth_views.LoginView):
    template_name = "workbench/login.html"
    authentication_form = LockingAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("workbench:inbox")


class LogoutView(auth_views.LogoutView):
    next_page = "workbench:login"
