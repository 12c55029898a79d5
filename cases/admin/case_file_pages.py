"""Every page of a case file in the browser: thumbnails and a page viewer, from images the
worker rendered, so nobody downloads the PDF to look at it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import FileResponse, Http404, HttpRequest
from django.template.response import TemplateResponse

from cases import access
from cases.audit import audit_log
from cases.casefile.pages import page_name
from cases.models import AuditEvent, Case, CaseFile
from medchina.http import AuthenticatedHttpRequest


class CaseFilePagesMixin(admin.ModelAdmin):
    """Page views of ``CaseAdmin``; ``_case`` and ``_page`` live on ``CasePagesMixin``."""

    if TYPE_CHECKING:

        def _case(self, request: HttpRequest, object_id: str, *, change: bool = True) -> Case: ...

        def _page(
            self, request: HttpRequest, case: Case, template: str, title: str, **context: Any
        ) -> TemplateResponse: ...

    def case_file_pages_view(self, request: AuthenticatedHttpRequest, object_id: str, public_id):
        """Every page of one version, as thumbnails and one large page, in the browser."""
        case = self._case(request, object_id, change=False)
        case_file = access.staff_case_file(case, public_id)
        if case_file.state != CaseFile.State.READY:
            raise Http404("Not ready")
        try:
            current = max(1, min(int(request.GET.get("page", 1)), case_file.preview_pages or 1))
        except ValueError:
            current = 1
        audit_log(
            action=AuditEvent.Action.CASE_VIEWED,
            actor=request.user,
            case=case,
            target=f"case_file_pages:{case_file.public_id}",
            request=request,
        )
        return self._page(
            request,
            case,
            "case_file_pages.html",
            f"{case_file.get_variant_display()} v{case_file.version}, page {current}",
            case_file=case_file,
            current=current,
            numbers=range(1, case_file.preview_pages + 1),
        )

    def case_file_page_image(
        self, request: AuthenticatedHttpRequest, object_id: str, public_id, number: int
    ):
        case = self._case(request, object_id, change=False)
        case_file = access.staff_case_file(case, public_id)
        if case_file.state != CaseFile.State.READY:
            raise Http404("Not ready")
        if not 1 <= number <= case_file.preview_pages:
            raise Http404("No such page")
        # The page viewer's visit is audited once; its images are not audited one by one.
        storage = case_file.file.storage
        response = FileResponse(
            storage.open(page_name(case_file, number), "rb"),
            content_type="image/jpeg",
        )
        response["Cache-Control"] = "no-store, private"
        response["X-Content-Type-Options"] = "nosniff"
        return response
