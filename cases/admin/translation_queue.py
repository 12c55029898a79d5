"""The translators' queue: the cases whose Chinese they may write now, most urgent first."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_safe

from cases import access
from cases.models import SummarySection
from cases.summary import selectors as summary_selectors
from medchina.http import AuthenticatedHttpRequest


class TranslationQueueMixin(admin.ModelAdmin):
    """``/admin/cases/case/translations/`` on ``CaseAdmin``. It lists references, areas and
    counts only (no health content), so opening it is not audited; the editor is."""

    def get_urls(self):
        return [
            path(
                "translations/",
                self.admin_site.admin_view(require_safe(self.translation_queue_view)),
                name="cases_case_translations",
            ),
            *super().get_urls(),
        ]

    def translation_queue_view(self, request: AuthenticatedHttpRequest):
        if not access.can_edit_chinese(request.user):
            raise PermissionDenied
        rows = summary_selectors.translation_queue(access.translation_cases(request.user))
        return TemplateResponse(
            request,
            "admin/cases/case/translation_queue.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Translation queue",
                "rows": rows,
                "section_count": len(SummarySection.Key),
            },
        )
