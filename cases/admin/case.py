"""The case queue and the case page: the coordinator's main workspace."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from cases import access, workspace
from cases.admin.base import HiddenIsNotFound, RefusalsShownAsErrors, Refused
from cases.admin.filters import DEADLINE_SOON, AssignedFilter, OpenFilter, OverdueFilter
from cases.admin.inlines import (
    CaseDirectionInline,
    CaseEventInline,
    ConsentInline,
    InternalNoteInline,
    MembershipInline,
    RecordInline,
    RecordRequestInline,
)
from cases.admin.privacy_pages import PrivacyPagesMixin
from cases.admin.queue import QueueMixin
from cases.admin.translation_queue import TranslationQueueMixin
from cases.domain.enquiry import ENQUIRY_FIELDS
from cases.domain.workflow import (
    CONFIRM_FIRST,
    FINAL,
    Status,
    allowed_targets,
    coordinator_targets,
)
from cases.messaging import services as messaging
from cases.models import Case, ErasureRequest, InternalNote, Record, SummarySection, TextState
from cases.records.services import record_clear_for_partner

# Short area names keep the queue's columns within 1280 px.
AREA_SHORT = {
    "cancer": "Cancer",
    "rare_disease": "Rare disease",
    "fertility": "Fertility",
    "eye_care": "Eye care",
    "rehabilitation": "Rehabilitation",
    "other": "Other",
}


# The case page's "On this page" links: short names for its fieldsets and tables, so the
# bar that stays in view stays one line high at 1280 px.
SECTION_SHORT_NAMES = {
    "Key facts (printed in the case file)": "Key facts",
    "Patient and contact": "Patient",
    "More identifiers for redaction": "Identifiers",
    "Audit trail (latest 30)": "Audit trail",
    "internal notes (never shown to the patient)": "Notes",
    "record requests": "Requests",
    "confirmed China medical directions": "Directions",
    "members and grants": "Members",
    "status history": "Status history",
}


# "13 min", "3 wk": the queue's two age columns must leave room for the rest at 1280 px.
_SHORT_UNITS = [
    (" minutes", " min"), (" minute", " min"), (" hours", " h"), (" hour", " h"),
    (" days", " d"), (" day", " d"), (" weeks", " wk"), (" week", " wk"),
    (" months", " mo"), (" month", " mo"), (" years", " y"), (" year", " y"),
]  # fmt: skip


def _short_timesince(value: datetime | None) -> str:
    if value is None:
        return "—"
    text = timesince(value, depth=1).replace("\xa0", " ")
    for long, short in _SHORT_UNITS:
        text = text.replace(long, short)
    return text


@admin.register(Case)
class CaseAdmin(
    TranslationQueueMixin, HiddenIsNotFound, RefusalsShownAsErrors, QueueMixin, PrivacyPagesMixin
):
    list_display = [
        "reference",
        "patient_initials",
        "area",
        "status_label",
        "coordinator",
        "waiting",
        "patient_quiet",
        "completeness",
        "deadline",
        "unread",
    ]
    list_filter = [AssignedFilter, OpenFilter, "status", "medical_area", OverdueFilter]
    show_full_result_count = False
    list_per_page = 50
    # Everything the enquiry collected is shown, never edited here.
    readonly_fields = [
        "reference",
        "status",
        "submitted_at",
        "last_patient_activity_at",
        *("question_list" if name == "questions" else name for name in ENQUIRY_FIELDS),
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
                    "assigned_coordinator",
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
            "Key facts (printed in the case file)",
            {"fields": ["sex", "current_medicines", "allergies", "other_conditions"]},
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
        (
            "More identifiers for redaction",
            {
                "description": "Redaction boxes these on record pages and flags them in the "
                "partner file's text, as well as the names, date of birth, NHS number, phone, "
                "e-mail and provider above. Never printed in a partner file.",
                "fields": ["patient_name_zh", "postcode", "address", "other_identifiers"],
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
        # A coordinator works their own cases and picks up unassigned ones; the queue
        # marks cases whose Chinese went stale, in the same query.
        cases = (
            access.staff_cases(request.user)
            .select_related("assigned_coordinator")
            .annotate(
                chinese_needs_update=Exists(
                    SummarySection.objects.filter(
                        case=OuterRef("pk"), state_zh=TextState.NEEDS_UPDATE
                    )
                )
            )
        )
        if request.resolver_match and request.resolver_match.url_name == "cases_case_changelist":
            # The queue shows each coordinator's unread messages per case, same query.
            cases = messaging.with_unread(cases, request.user)
        return cases

    def changelist_view(self, request, extra_context=None):
        if not request.GET:
            # Open cases only (the filter's default); a manager starts from every case.
            view = "all" if access.sees_every_case(request.user) else "me"
            return HttpResponseRedirect(f"{request.get_full_path()}?assigned={view}")
        # "Cases", not Django's "Select case to change": the queue is where work starts.
        return super().changelist_view(request, {"title": "Cases", **(extra_context or {})})

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        current_id = obj.assigned_coordinator_id if obj else None

        class CaseForm(form):
            def clean_assigned_coordinator(inner):
                # The rule answers in the form, so a refusal is an error beside the field
                # and whatever else was typed (a note) stays on the page.
                coordinator = inner.cleaned_data.get("assigned_coordinator")
                changed = "assigned_coordinator" in inner.changed_data
                if changed and not access.may_assign(request.user, coordinator, current_id):
                    raise ValidationError(
                        "Only a manager can assign or reassign a case to someone."
                    )
                return coordinator

        # After the subclass: declaring it makes the model form's fields afresh, so a
        # queryset set on the parent's fields would be lost (and every user offered).
        field = CaseForm.base_fields.get("assigned_coordinator")
        if field is not None:
            field.queryset = access.assignable_coordinators(request.user, current_id)
            if not access.can_reassign(request.user):
                field.help_text = "You can take a case yourself; a manager can reassign it."
        return CaseForm

    def save_model(self, request, obj, form, change):
        changed = set(form.changed_data)
        if "assigned_coordinator" in changed:
            try:
                workspace.case_assign(
                    case=obj,
                    coordinator=obj.assigned_coordinator,
                    by=request.user,
                    request=request,
                )
            except PermissionDenied as refused:
                raise Refused(str(refused)) from refused
        facts = sorted(changed & set(workspace.KEY_FACTS))
        if facts:
            workspace.case_key_facts_update(
                case=obj,
                facts={name: getattr(obj, name) for name in facts},
                by=request.user,
                request=request,
            )

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

    @admin.display(description="Area", ordering="medical_area")
    def area(self, obj: Case) -> str:
        return AREA_SHORT.get(obj.medical_area, obj.get_medical_area_display())

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj: Case) -> str:
        if getattr(obj, "chinese_needs_update", False):
            return format_html(
                '{}<br><span class="state state-needs_update">Chinese needs update</span>',
                obj.get_status_display(),
            )
        return obj.get_status_display()

    @admin.display(description="Coordinator", ordering="assigned_coordinator__username")
    def coordinator(self, obj: Case) -> str:
        return str(obj.assigned_coordinator) if obj.assigned_coordinator else "—"

    @admin.display(description="Waiting", ordering="submitted_at")
    def waiting(self, obj: Case) -> str:
        return _short_timesince(obj.submitted_at)

    @admin.display(description="Patient quiet", ordering="last_patient_activity_at")
    def patient_quiet(self, obj: Case) -> str:
        return _short_timesince(obj.last_patient_activity_at)

    @admin.display(description="Essential records", ordering="essentials_missing")
    def completeness(self, obj: Case) -> str:
        have = obj.essentials_total - obj.essentials_missing
        return f"{have}/{obj.essentials_total}"

    @admin.display(description="Deadline", ordering="decision_deadline")
    def deadline(self, obj: Case) -> str:
        if not obj.decision_deadline:
            return "—"
        today = date.today()
        # "8 Dec" this year, "8 Dec 2027" otherwise: short enough for the queue at 1280 px.
        shown = date_format(
            obj.decision_deadline, "j M" if obj.decision_deadline.year == today.year else "j M Y"
        )
        soon = obj.decision_deadline <= today + DEADLINE_SOON
        if soon and obj.status not in FINAL:
            return format_html('<strong class="deadline-soon">{} (soon)</strong>', shown)
        return shown

    # --- Case page ---------------------------------------------------------------------

    @admin.display(description="Messages")
    def unread(self, obj: Case) -> str:
        count = getattr(obj, "unread_messages", 0)
        if not count:
            return "—"
        return format_html(
            '<strong title="{} unread message{}">{} new</strong>', count, pluralize(count), count
        )

    @admin.display(description="Questions")
    def question_list(self, obj: Case) -> str:
        return format_html(
            "<ol>{}</ol>", format_html_join("", "<li>{}</li>", ((q,) for q in obj.questions))
        )

    def _workspace_links(self, obj: Case) -> list[tuple[str, str]]:
        links = [
            ("request_records", "Request missing records"),
            ("summary", "Case summary (English and Chinese)"),
            ("directions", "China medical directions"),
            ("case_files", "PDF case files"),
            ("outcome", "Outcome and next steps"),
            ("messages", "Messages"),
        ]
        if ErasureRequest.objects.filter(case=obj).exists():
            links.append(("erasure", "Erasure requested"))
        return [
            (reverse(f"admin:cases_case_{name}", args=[obj.pk]), label) for name, label in links
        ]

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

    def render_change_form(self, request, context, *args, **kwargs):
        # Anchors as Django's admin templates write them: fieldsets by position, tables by
        # their formset's prefix.
        sections = [("case-top", "Case")]
        for index, fieldset in enumerate(context.get("adminform") or []):
            if fieldset.name:
                short = SECTION_SHORT_NAMES.get(str(fieldset.name), str(fieldset.name))
                sections.append((f"fieldset-0-{index}-heading", short))
        for inline in context.get("inline_admin_formsets") or []:
            name = str(inline.opts.verbose_name_plural)
            short = SECTION_SHORT_NAMES.get(name, name.capitalize())
            sections.append((f"{inline.formset.prefix}-group", short))
        context["page_sections"] = sections
        return super().render_change_form(request, context, *args, **kwargs)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        case = self.get_queryset(request).filter(pk=object_id).first()
        if case is not None:
            # The sticky action bar: buttons, each carrying the status the page shows.
            extra_context.update(
                # "Case MC-…" once, instead of Django's "Change case" over the reference.
                title=f"Case {case.reference}",
                subtitle=None,
                transition_url=reverse("admin:cases_case_transition", args=[object_id]),
                transition_targets=coordinator_targets(case.status),
                confirm_targets={str(t) for t in CONFIRM_FIRST},
                workspace_links=self._workspace_links(case),
                withdraw_url=(
                    reverse("admin:cases_case_withdraw", args=[object_id])
                    if Status.WITHDRAWN in allowed_targets(case.status)
                    else ""
                ),
            )
        response = super().change_view(request, object_id, form_url, extra_context)
        self._audit_view(request, object_id, "case")
        return response
