"""The admin site: two-factor sign-in whenever DEBUG is off (or when configured)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


def two_factor_required() -> bool:
    configured = settings.MEDCHINA_ADMIN_REQUIRE_2FA
    if settings.PRODUCTION:
        return True
    return (not settings.DEBUG) if configured is None else configured


class WorkspaceAdminSite(OTPAdminSite):
    """Decides per request, so a test run (DEBUG off) gets the same rule as production."""

    def has_permission(self, request) -> bool:
        if two_factor_required():
            return super().has_permission(request)
        return AdminSite.has_permission(self, request)

    def login(self, request, extra_context=None):
        if two_factor_required():
            self.login_form = OTPAdminAuthenticationForm
            self.login_template = OTPAdminSite.login_template
        else:
            self.login_form = AdminAuthenticationForm
            self.login_template = None
        return super().login(request, extra_context)
