from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from cases import services
from cases.models import AuditEvent, Case, CaseEvent, Consent, Membership, Notification
from cases.workflow import allowed_targets

admin.site.site_header = "medChina Intake — coordinator workspace"
admin.site.site_title = "medChina Intake"
admin.site.index_title = "Workspace"


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ["user", "role", "can_view_all_records", "created_at", "revoked_at"]
    readonly_fields = fields


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = ["kind", "text_version", "text_sha256", "given_by", "given_at", "withdrawn_at"]
    readonly_fields = fields


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    verbose_name = "status change"
    verbose_name_plural = "status history"
    fields = ["at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "patient_initials",
        "medical_area",
        "status",
        "assigned_coordinator",
        "submitted_at",
    ]
    list_filter = ["status", "medical_area"]
    search_fields = ["=reference", "patient_name"]
    list_select_related = ["assigned_coordinator"]
    show_full_result_count = False
    readonly_fields = ["reference", "status", "submitted_at", "status_actions"]
    inlines = [MembershipInline, ConsentInline, CaseEventInline]
    fieldsets = [
        (None, {"fields": ["reference", "status", "status_actions", "assigned_coordinator"]}),
        (
            "Contact",
            {
                "fields": [
                    "submitted_by_family",
                    "relationship",
                    "contact_name",
                    "contact_email",
                    "contact_phone",
                    "preferred_contact",
                    "contact_times",
                ]
            },
        ),
        (
            "Patient",
            {
                "fields": [
                    "patient_name",
                    "patient_date_of_birth",
                    "nhs_number",
                    "current_provider",
                ]
            },
        ),
        (
            "Enquiry",
            {
                "fields": [
                    "medical_area",
                    "diagnosis",
                    "treatment_so_far",
                    "treatment_plan",
                    "worries",
                    "questions",
                    "goal",
                    "decision_deadline",
                    "language",
                    "interpretation_needs",
                    "submitted_at",
                ]
            },
        ),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Move to")
    def status_actions(self, obj: Case) -> str:
        if obj.pk is None:
            return "-"
        buttons = [
            format_html(
                '<button type="submit" class="button" form="transition-form" name="to" '
                'value="{}">{}</button> ',
                target.value,
                target.label,
            )
            for target in allowed_targets(obj.status)
        ]
        if not buttons:
            return "No further changes: this case is final."
        return format_html(
            '{}<p class="help">Each change is recorded with your name and an optional note.</p>',
            format_html("".join(buttons)),
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="cases_case_transition",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request: HttpRequest, object_id: str):
        case = get_object_or_404(Case, pk=object_id)
        if request.method != "POST" or not self.has_change_permission(request, case):
            return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
        try:
            services.case_transition(
                case=case,
                to=request.POST.get("to", ""),
                actor=request.user,
                note=request.POST.get("note", ""),
                request=request,
            )
        except (services.TransitionNotAllowed, ValueError) as error:
            message = error.messages[0] if hasattr(error, "messages") else "Unknown status."
            self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, f"{case.reference} is now {case.get_status_display()}.")
        return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["transition_url"] = reverse("admin:cases_case_transition", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "case", "actor", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["=case__reference"]
    list_select_related = ["case", "actor"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "case", "state", "attempts", "last_error"]
    list_filter = ["state", "kind"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
