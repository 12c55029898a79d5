"""The case queue and the case page: the coordinator's main workspace."""

from __future__ import annotations

from datetime import date

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from cases import access, workspace
from cases.admin.case_pages import CasePagesMixin
from cases.admin.filters import DEADLINE_SOON, AssignedFilter, OverdueFilter
from cases.admin.inlines import (
    CaseDirectionInline,
    CaseEventInline,
    ConsentInline,
    InternalNoteInline,
    MembershipInline,
    RecordInline,
    RecordRequestInline,
)
from cases.domain import reference
from cases.domain.enquiry import ENQUIRY_FIELDS
from cases.domain.workflow import FINAL, allowed_targets
from cases.models import Case, InternalNote, Record
from cases.records.services import record_clear_for_partner


@admin.register(Case)
class CaseAdmin(CasePagesMixin):
    list_display = [
        "reference",
        "patient_initials",
        "medical_area",
        "status",
        "assigned_coordinator",
        "waiting",
        "patient_quiet",
        "completeness",
        "deadline",
    ]
    list_filter = [AssignedFilter, "status", "medical_area", OverdueFilter]
    search_fields = ["=reference", "patient_name"]
    show_full_result_count = False
    list_per_page = 50
    # Everything the enquiry collected is shown, never edited here.
    readonly_fields = [
        "reference",
        "status",
        "status_actions",
        "submitted_at",
        "last_patient_activity_at",
        *("question_list" if name == "questions" else name for name in ENQUIRY_FIELDS),
        "workspace_links",
        "audit_trail",
        "patient_confirmed_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "status",
                    "status_actions",
                    "assigned_coordinator",
                    "workspace_links",
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
                    "question_list",
                    "goal",
                    "decision_deadline",
                    "language",
                    "interpretation_needs",
                    "submitted_at",
                    "last_patient_activity_at",
                ]
            },
        ),
        (
            "Patient and contact",
            {
                "fields": [
                    "patient_name",
                    "patient_date_of_birth",
                    "nhs_number",
                    "current_provider",
                    "submitted_by_family",
                    "relationship",
                    "representative_authority",
                    "patient_email",
                    "patient_confirmed_at",
                    "contact_name",
                    "contact_email",
                    "contact_phone",
                    "preferred_contact",
                    "contact_times",
                ]
            },
        ),
        ("Audit trail (latest 30)", {"classes": ["collapse"], "fields": ["audit_trail"]}),
    ]
    inlines = [
        InternalNoteInline,
        RecordInline,
        RecordRequestInline,
        CaseDirectionInline,
        ConsentInline,
        MembershipInline,
        CaseEventInline,
    ]

    def has_add_permission(self, request) -> bool:
        return False  # cases come from the enquiry journey

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # A coordinator works their own cases and picks up unassigned ones.
        return access.staff_cases(request.user).select_related("assigned_coordinator")

    def get_search_results(self, request, queryset, search_term):
        # A reference is the primary key: look it up directly rather than scan the table.
        canonical = reference.normalise(search_term) if search_term else None
        if canonical:
            return queryset.filter(pk=canonical), False
        return super().get_search_results(request, queryset, search_term)

    def changelist_view(self, request, extra_context=None):
        if not request.GET:
            return HttpResponseRedirect(f"{request.path}?assigned=me")
        return super().changelist_view(request, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        field = form.base_fields.get("assigned_coordinator")
        if field is not None:
            current = obj.assigned_coordinator_id if obj else None
            field.queryset = access.assignable_coordinators(request.user, current)
            if not access.can_reassign(request.user):
                field.help_text = "You can take a case yourself; a manager can reassign it."
        return form

    def save_model(self, request, obj, form, change):
        if "assigned_coordinator" in form.changed_data:
            try:
                workspace.case_assign(
                    case=obj,
                    coordinator=obj.assigned_coordinator,
                    by=request.user,
                    request=request,
                )
            except PermissionDenied as refused:
                self.message_user(request, str(refused), messages.ERROR)
        else:
            super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for item in formset.save(commit=False):
            if isinstance(item, InternalNote):
                workspace.internal_note_add(note=item, by=request.user, request=request)
            elif isinstance(item, Record):
                record_clear_for_partner(record=item, by=request.user, request=request)

    # --- Queue columns ---------------------------------------------------------------

    @admin.display(description="Patient")
    def patient_initials(self, obj: Case) -> str:
        return obj.patient_initials

    @admin.display(description="Waiting", ordering="submitted_at")
    def waiting(self, obj: Case) -> str:
        return timesince(obj.submitted_at, depth=1)

    @admin.display(description="Patient quiet for", ordering="last_patient_activity_at")
    def patient_quiet(self, obj: Case) -> str:
        return timesince(obj.last_patient_activity_at, depth=1)

    @admin.display(description="Records", ordering="essentials_missing")
    def completeness(self, obj: Case) -> str:
        have = obj.essentials_total - obj.essentials_missing
        return f"{have}/{obj.essentials_total} essential"

    @admin.display(description="Decision deadline", ordering="decision_deadline")
    def deadline(self, obj: Case) -> str:
        if not obj.decision_deadline:
            return "—"
        soon = obj.decision_deadline <= date.today() + DEADLINE_SOON
        if soon and obj.status not in FINAL:
            return format_html(
                '<strong class="deadline-soon">{} (soon)</strong>', obj.decision_deadline
            )
        return str(obj.decision_deadline)

    # --- Case page ---------------------------------------------------------------------

    @admin.display(description="Questions")
    def question_list(self, obj: Case) -> str:
        return format_html(
            "<ol>{}</ol>", format_html_join("", "<li>{}</li>", ((q,) for q in obj.questions))
        )

    @admin.display(description="Move to")
    def status_actions(self, obj: Case) -> str:
        targets = allowed_targets(obj.status)
        if not targets:
            return "No further changes: this case is final."
        buttons = format_html_join(
            " ",
            '<button type="submit" class="button" form="transition-form" name="to" '
            'value="{}">{}</button>',
            ((target.value, target.label) for target in targets),
        )
        return format_html(
            '{}<p class="help">Each change is recorded with your name and the note below '
            "(required when declining: the patient reads it).</p>",
            buttons,
        )

    @admin.display(description="Work on this case")
    def workspace_links(self, obj: Case) -> str:
        links = [
            ("request_records", "Request missing records"),
            ("summary", "Case summary (English and Chinese)"),
            ("directions", "China medical directions"),
            ("outcome", "Outcome and next steps"),
            ("case_files", "PDF case files"),
        ]
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            ((reverse(f"admin:cases_case_{name}", args=[obj.pk]), label) for name, label in links),
        )

    @admin.display(description="")
    def audit_trail(self, obj: Case) -> str:
        events = obj.audit_events.select_related("actor")[:30]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (f"{e.at:%Y-%m-%d %H:%M}", e.get_action_display(), e.actor or "—", e.target or "")
                for e in events
            ),
        )
        return format_html("<table><tbody>{}</tbody></table>", rows)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["transition_url"] = reverse("admin:cases_case_transition", args=[object_id])
        response = super().change_view(request, object_id, form_url, extra_context)
        self._audit_view(request, object_id, "case")
        return response
