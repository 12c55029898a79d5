"""Where translators work: the Chinese side of each summary section."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from simple_history.admin import SimpleHistoryAdmin

from cases import access
from cases.admin.forms import SummarySectionForm
from cases.audit import audit_log
from cases.models import AuditEvent, SummarySection
from cases.summary import services as summary


@admin.register(SummarySection)
class SummarySectionAdmin(SimpleHistoryAdmin):
    """Where translators work: the Chinese side of each summary section."""

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

    def get_readonly_fields(self, request, obj=None):
        readonly = ["case", "key"]
        if not access.can_edit_english(request.user):
            readonly += ["text_en", "state_en"]
        if not access.can_edit_chinese(request.user):
            readonly += ["text_zh", "state_zh"]
        return readonly

    def change_view(self, request, object_id, form_url="", extra_context=None):
        section = SummarySection.objects.filter(pk=object_id).select_related("case").first()
        if section is not None and request.method == "GET":
            audit_log(
                action=AuditEvent.Action.CASE_VIEWED,
                actor=request.user,
                case=section.case,
                target=f"summary:{section.key}",
                request=request,
            )
        return super().change_view(request, object_id, form_url, extra_context)

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
        except (summary.StaleEdit, PermissionDenied) as refused:
            self.message_user(request, str(refused), messages.ERROR)
        except ValidationError as refused:
            self.message_user(request, refused.messages[0], messages.ERROR)
