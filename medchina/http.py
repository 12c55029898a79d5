"""Request types for views that only signed-in people reach."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind ``login_required`` or the admin: ``user`` is a signed-in user.

    Only a type: Django builds the request; views annotate with this to say what
    ``login_required`` (or ``admin_view``) already guarantees.
    """

    user: User
