from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat

from medchina.logging import request_id_var

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Tag every log line of a request with one id, echoed back as ``X-Request-ID``.

    A proxy's id is reused when it looks like one; anything else is replaced, so a
    client cannot write arbitrary text into our logs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]  # our own attribute
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class StaffSessionIdleMiddleware:
    """Staff see many patients' records: their sessions end after a short idle time.

    Each staff request pushes the expiry forward; patients keep the longer default.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            request.session.set_expiry(settings.MEDCHINA_STAFF_SESSION_IDLE)
        return self.get_response(request)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refuse(request: HttpRequest, *, template: str, message: str, status: int) -> HttpResponse:
    """Our own page (or JSON for the uploader's script), saying what to do instead."""
    if _wants_json(request):
        response: HttpResponse = JsonResponse({"results": [], "errors": message}, status=status)
    else:
        response = render(request, template, {"message": message}, status=status)
    # The unread body is the server's to discard (gunicorn drains a little, then closes).
    return response


def upload_too_large_message() -> str:
    limit = filesizeformat(settings.MEDCHINA_MAX_UPLOAD_REQUEST_SIZE)
    return (
        f"That upload is too large: at most {limit} can be sent at once. Nothing was "
        "stored. Send large files one at a time, split a long PDF, or send a smaller copy."
    )


def too_many_files_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    return f"You chose more than {limit} files. Please upload at most {limit} at a time."


class RequestBodyLimitMiddleware:
    """Refuse oversized or over-many-file uploads before anything reads the body.

    * A body whose ``Content-Length`` is over the limit is answered at once, from the
      header alone: nobody waits for a gigabyte to arrive just to be told it is too big.
    * Django's CSRF check reads ``request.POST`` before any view runs, so a form with more
      files than ``DATA_UPLOAD_MAX_NUMBER_FILES`` would end as a bare 400 there. The body is
      parsed here instead (the view later reads the same parsed data), and that case gets
      our own page. Answering without the CSRF check is safe: nothing is stored.

    Must come before ``CsrfViewMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in {"POST", "PUT", "PATCH"}:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.MEDCHINA_MAX_UPLOAD_REQUEST_SIZE:
                return _refuse(
                    request,
                    template="413.html",
                    message=upload_too_large_message(),
                    status=413,
                )
            if request.content_type == "multipart/form-data":
                try:
                    request.POST  # noqa: B018 (parses the body, files included)
                except TooManyFilesSent:
                    return _refuse(
                        request,
                        template="400_too_many_files.html",
                        message=too_many_files_message(),
                        status=400,
                    )
        return self.get_response(request)


def upload_too_large(request: HttpRequest) -> HttpResponse:
    """Where nginx sends a body it refused by its size (``error_page 413``)."""
    return _refuse(request, template="413.html", message=upload_too_large_message(), status=413)
