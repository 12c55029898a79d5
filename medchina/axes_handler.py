"""django-axes for the staff login only.

With ``AXES_ONLY_ADMIN_SITE`` axes never *refuses* a patient's request, but its stock
database handler still records every failed ``authenticate()`` — a spent sign-in or
invitation link included — and marks the request locked out, so after five stale links
from one hospital Wi-Fi every patient link answered "Account locked" for an hour.
Patient links are single-use tokens with their own rate limits; only the admin login
has a password to guess, so only it is counted.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler


class AdminOnlyAxesHandler(AxesDatabaseHandler):
    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        if request is None or not self.is_admin_request(request):
            return
        super().user_login_failed(sender, credentials, request=request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        # A patient's sign-in is not a staff login: nothing to log or reset.
        if not self.is_admin_request(request):
            return
        super().user_logged_in(sender, request, user, **kwargs)
