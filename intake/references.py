"""Case references in portal addresses, however people type them."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from cases.domain import reference

_PORTAL_CASE = re.compile(r"^/my/cases/(?P<ref>[^/]+)/")


class CanonicalReferenceMiddleware:
    """Send ``/my/cases/mc7k3q9xd2/…`` on to ``/my/cases/MC-7K3Q-9XD2/…``.

    People copy references from letters and type them on phones: lower case, without
    the dashes, with I for 1. A reference that reads as a valid one is redirected to its
    canonical address, where the usual membership check decides (404 for non-members, so
    the redirect tells nobody whether a case exists). A middleware rather than a
    decorator, so every portal page under a case — today's and tomorrow's — gets it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = _PORTAL_CASE.match(request.path_info)
        if match and request.method in {"GET", "HEAD"}:
            typed = match.group("ref")
            canonical = reference.normalise(typed)
            if canonical is not None and canonical != typed:
                # The full path keeps the query string, if any.
                here = request.get_full_path()
                return redirect(here.replace(f"/my/cases/{typed}/", f"/my/cases/{canonical}/", 1))
        return self.get_response(request)
