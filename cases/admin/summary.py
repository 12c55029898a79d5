"""Where translators work: the Chinese side of each summary section."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from simple_history.admin import SimpleHistoryAdmin

from cases import access
from cases.admin.base import HiddenIsNotFound, RefusalsShownAsErrors, Refused
from cases.admin.forms import SummarySectionForm
from cases.audit import audit_log
from cases.models import AuditEvent, SummarySection
from cases.summary import services as summary


@admin.register(SummarySection)
class SummarySectionAdmin(HiddenIsNotFound, RefusalsShownAsErrors, SimpleHistoryAdmin):
    """Where translators work: the Chinese side of each summary section.

    django-simple-history's own pages (the history list, one past version and its revert
    form) read rows by id and skip ``get_queryset``: each is wrapped here so the access
    rule answers first, the read is audited after it, and restoring is refused.
    """

    form = SummarySectionForm
    list_display = ["case", "key", "state_en", "state_zh", "updated_by", "updated_at"]
    list_filter = ["state_zh", "state_en", "key"]
    search_fields = ["=case__reference"]
    list_select_related = ["case", "updated_by"]
    fields = ["case", "key", "text_en", "state_en", "text_zh", "state_zh", "base_version"]
    show_full_result_count = False

    def get_queryset(self, request):
        return access.staff_summary_sections(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return access.can_edit_english(request.user) or access.can_edit_chinese(request.user)

    def revert_disabled(self, request, obj=None) -> bool:
        return not access.may_restore_old_version(request.user)

    def get_readonly_fields(self, request, obj=None):
        readonly = ["case", "key"]
        if not access.can_edit_english(request.user):
            readonly += ["text_en", "state_en"]
        if not access.can_edit_chinese(request.user):
            readonly += ["text_zh", "state_zh"]
        return readonly

    def _audit_read(self, request, section: SummarySection, page: str) -> None:
        if request.method == "GET":
            audit_log(
                action=AuditEvent.Action.CASE_VIEWED,
                actor=request.user,
                case=section.case,
                target=f"{page}:{section.key}",
                request=request,
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        section = access.staff_summary_section_by_id(request.user, object_id)
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:  # Django let them in: the section was read
            self._audit_read(request, section, "summary")
        return response

    def history_view(self, request, object_id, extra_context=None):
        section = access.staff_summary_section_by_id(request.user, object_id)
        response = super().history_view(request, object_id, extra_context)
        self._audit_read(request, section, "summary_history")
        return response

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        section = access.staff_summary_section_by_id(request.user, object_id)
        # Reading an old version is fine; its form's POST would save it over today's text
        # (the library ignores SIMPLE_HISTORY_REVERT_DISABLED there).
        if request.method != "GET" and not access.may_restore_old_version(request.user):
            raise PermissionDenied("Old versions of a summary cannot be restored here.")
        response = super().history_form_view(request, object_id, version_id, extra_context)
        self._audit_read(request, section, "summary_version")
        return response

    def save_model(self, request, obj, form, change):
        current = SummarySection.objects.get(pk=obj.pk)
        try:
            summary.summary_section_save(
                section=current,
                edit=summary.SectionEdit(
                    text_en=obj.text_en,
                    state_en=obj.state_en,
                    text_zh=obj.text_zh,
                    state_zh=obj.state_zh,
                    base_version=form.cleaned_data["base_version"],
                ),
                by=request.user,
                request=request,
            )
        except summary.StaleEdit as stale:
            raise Refused(
                "Someone else saved this section while you were editing; nothing was saved. "
                "Open it again to see their version."
            ) from stale
        except PermissionDenied as refused:
            raise Refused(str(refused)) from refused
        except ValidationError as refused:
            raise Refused(refused.messages[0]) from refused
