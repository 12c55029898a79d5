"""Serving private files: one place for the headers and the audit row every access needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import FileResponse

from cases.audit import audit_log

if TYPE_CHECKING:
    from django.db.models.fields.files import FieldFile
    from django.http import HttpRequest

    from cases.models import Case


def private_file_response(
    *,
    stored: FieldFile,
    request: HttpRequest,
    case: Case,
    action: str,
    target: str,
    content_type: str,
    filename: str = "",
) -> FileResponse:
    """Audit the access, then stream the file; an attachment unless no filename is given.

    Callers check permission first (``access.record_for_member`` and friends).
    """
    audit_log(action=action, actor=request.user, case=case, target=target, request=request)
    response = FileResponse(
        stored.open("rb"),
        as_attachment=bool(filename),
        filename=filename,
        content_type=content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response
