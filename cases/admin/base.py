"""What every workspace admin shares: hidden rows are 404s, and refusals are errors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect


class HiddenIsNotFound:
    """A row outside someone's scope is a plain 404, like a row that does not exist.

    Django's default redirects to the index with "… with ID “MC-…” doesn't exist", as if
    we had looked the id up for them.
    """

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        raise Http404("No such page")


class Refused(Exception):
    """A service refused a change the form let through (another editor saved first, or a
    rule the form could not see): shown as an error, and nothing is saved."""


class RefusalsShownAsErrors:
    """``Refused`` from ``save_model`` becomes an error message, never Django's "changed
    successfully"; the admin's transaction rolls back anything half done."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )
        except Refused as refused:
            self.message_user(request, str(refused), messages.ERROR)  # type: ignore[attr-defined]
            return HttpResponseRedirect(request.get_full_path())
