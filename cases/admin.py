"""The coordinator workspace: the Django admin, made for triage, not table editing."""

from __future__ import annotations

import difflib
from datetime import date, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from simple_history.admin import SimpleHistoryAdmin

from cases import casefile, glossary, records, reference, services, workspace
from cases.models import (
    AuditEvent,
    Case,
    CaseDirection,
    CaseEvent,
    CaseFile,
    Consent,
    InternalNote,
    MedicalDirection,
    Membership,
    Notification,
    Record,
    RecordCategory,
    RecordRequest,
    SummarySection,
    TextState,
)
from cases.serving import private_file_response
from cases.workflow import FINAL, Status, allowed_targets

admin.site.site_header = "medChina Intake — coordinator workspace"
admin.site.site_title = "medChina Intake"
admin.site.index_title = "Workspace"

DEADLINE_SOON = timedelta(days=14)
OVERDUE_AFTER = timedelta(days=10)


def visible_case_q(user, prefix: str = "") -> Q:
    """The cases a staff member may read: all for managers, else theirs and unassigned."""
    if user.has_perm("cases.view_all_cases"):
        return Q()
    return Q(**{f"{prefix}assigned_coordinator": user}) | Q(
        **{f"{prefix}assigned_coordinator__isnull": True}
    )


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MembershipInline(ReadOnlyInline):
    model = Membership
    verbose_name_plural = "members and grants"
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


class RecordRequestInline(ReadOnlyInline):
    model = RecordRequest
    verbose_name_plural = "record requests"
    fields = ["created_at", "requested_by", "message", "answered_at"]
    readonly_fields = fields


class CaseDirectionInline(ReadOnlyInline):
    model = CaseDirection
    verbose_name_plural = "confirmed China medical directions"
    fields = ["direction", "high_risk_caution", "rationale", "confirmed_by", "confirmed_at"]
    readonly_fields = fields

    @admin.display(description="Caution")
    def high_risk_caution(self, obj: CaseDirection) -> str:
        return obj.direction.cautions if obj.direction.high_risk else "—"


class RecordInline(ReadOnlyInline):
    model = Record
    fields = [
        "preview",
        "category",
        "document_date",
        "original_name",
        "state",
        "rejection_reason",
        "uploaded_by",
        "download",
        "cleared_for_partner",
    ]
    readonly_fields = fields[:-1]

    def has_change_permission(self, request, obj=None) -> bool:
        # Only the "checked: no identifiers" box is editable here.
        return request.user.has_perm("cases.change_record")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description="")
    def preview(self, obj: Record) -> str:
        if obj.state != Record.State.READY or not obj.thumbnail:
            return "—"
        url = reverse("admin:cases_case_record", args=[obj.case_id, obj.public_id, "thumbnail"])
        return format_html('<img src="{}" alt="" width="56" loading="lazy">', url)

    @admin.display(description="File")
    def download(self, obj: Record) -> str:
        if obj.state != Record.State.READY:
            return "—"
        url = reverse("admin:cases_case_record", args=[obj.case_id, obj.public_id, "file"])
        return format_html('<a href="{}">Download</a>', url)


class InternalNoteInline(admin.StackedInline):
    model = InternalNote
    extra = 1
    can_delete = False
    verbose_name_plural = "internal notes (never shown to the patient)"
    fields = ["text", "author", "created_at"]
    readonly_fields = ["author", "created_at"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        from django.contrib.auth import get_user_model

        staff = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
        return [
            ("me", "Me"),
            ("none", "Nobody"),
            ("all", "Anyone"),
            *[(str(u.pk), u.get_full_name() or u.username) for u in staff],
        ]

    def choices(self, changelist):
        # No "All" entry of our own: "Anyone" is explicit, and "Me" is the default.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_coordinator=request.user)
        if value == "none":
            return queryset.filter(assigned_coordinator__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assigned_coordinator_id=int(value))
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("overdue", "Overdue or deadline within 14 days"),
            ("incomplete", "Missing essential records"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.exclude(status__in=FINAL).filter(
                Q(decision_deadline__lte=today + DEADLINE_SOON)
                | Q(
                    status__in=[Status.SUBMITTED, Status.TRIAGE],
                    submitted_at__lte=timezone.now() - OVERDUE_AFTER,
                )
            )
        if self.value() == "incomplete":
            return queryset.exclude(status__in=FINAL).filter(essentials_missing__gt=0)
        return queryset


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(required=False, max_length=2000)


class RecordRequestForm(forms.Form):
    categories = forms.MultipleChoiceField(
        label="Records to ask for",
        choices=[c for c in RecordCategory.choices if c[0] != RecordCategory.REVIEWER_OPINION],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        label="Message the patient will read in their portal",
        widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
        help_text="The e-mail says only that records are needed, with a link: no health details.",
    )


class SectionForm(forms.Form):
    base_version = forms.IntegerField(widget=forms.HiddenInput)
    text_en = forms.CharField(
        label="English", required=False, widget=forms.Textarea(attrs={"rows": 6, "cols": 60})
    )
    state_en = forms.ChoiceField(label="English state", choices=TextState.choices)
    text_zh = forms.CharField(
        label="Simplified Chinese",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60, "lang": "zh-Hans"}),
    )
    state_zh = forms.ChoiceField(label="Chinese state", choices=TextState.choices)


class DirectionForm(forms.Form):
    direction = forms.ModelChoiceField(queryset=MedicalDirection.objects.all())
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class OutcomeForm(forms.Form):
    opinion_summary = forms.CharField(
        label="Plain-English summary of the reviewer's opinion",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
    )
    next_steps = forms.CharField(
        label="Next steps",
        help_text="More records, hospital communication, appointment planning, translation, "
        "travel feasibility, what to share with their UK clinicians.",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
    )
    opinion_file = forms.FileField(
        label="The reviewer's opinion (PDF or image, optional)", required=False
    )


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
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
    readonly_fields = [
        "reference",
        "status",
        "status_actions",
        "submitted_at",
        "last_patient_activity_at",
        "submitted_by_family",
        "relationship",
        "contact_name",
        "contact_email",
        "contact_phone",
        "preferred_contact",
        "contact_times",
        "patient_name",
        "patient_date_of_birth",
        "nhs_number",
        "current_provider",
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
        "workspace_links",
        "audit_trail",
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
        cases = super().get_queryset(request).select_related("assigned_coordinator")
        return cases.filter(visible_case_q(request.user))

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
            field.queryset = field.queryset.filter(is_staff=True, is_active=True)
            if not request.user.has_perm("cases.reassign_case"):
                current = obj.assigned_coordinator_id if obj else None
                field.queryset = field.queryset.filter(pk__in=[request.user.pk, current])
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
                item.author = request.user
                item.save()
                services.audit_log(
                    action=AuditEvent.Action.NOTE_ADDED,
                    actor=request.user,
                    case=item.case,
                    request=request,
                )
            elif isinstance(item, Record):
                item.save(update_fields=["cleared_for_partner"])
                services.audit_log(
                    action=AuditEvent.Action.RECORD_CLEARED,
                    actor=request.user,
                    case=item.case,
                    target=str(item.public_id),
                    request=request,
                    cleared=item.cleared_for_partner,
                )

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

    def _audit_view(self, request, object_id: str, page: str) -> None:
        """Staff reading a case is an access to health data: record it like any other."""
        if request.method == "GET":
            case = self.get_queryset(request).filter(pk=object_id).first()
            if case is not None:
                services.audit_log(
                    action=AuditEvent.Action.CASE_VIEWED,
                    actor=request.user,
                    case=case,
                    target=page,
                    request=request,
                )

    # --- Workspace pages ---------------------------------------------------------------

    def get_urls(self):
        def view(function, name: str, route: str):
            return path(
                f"<path:object_id>/{route}",
                self.admin_site.admin_view(function),
                name=f"cases_case_{name}",
            )

        return [
            view(self.transition_view, "transition", "transition/"),
            view(self.request_records_view, "request_records", "request-records/"),
            view(self.summary_view, "summary", "summary/"),
            view(self.summary_history_view, "summary_history", "summary/<str:key>/history/"),
            view(self.directions_view, "directions", "directions/"),
            view(self.outcome_view, "outcome", "outcome/"),
            view(self.record_view, "record", "records/<uuid:public_id>/<str:kind>/"),
            view(self.case_files_view, "case_files", "case-files/"),
            view(self.case_file_download, "case_file", "case-files/<uuid:public_id>/"),
            *super().get_urls(),
        ]

    def _case(self, request, object_id: str, *, change: bool = True) -> Case:
        case = get_object_or_404(self.get_queryset(request), pk=object_id)
        allowed = (
            self.has_change_permission(request, case)
            if change
            else self.has_view_permission(request, case)
        )
        if not allowed:
            raise PermissionDenied
        return case

    def _page(self, request, case: Case, template: str, title: str, **context):
        return TemplateResponse(
            request,
            f"admin/cases/case/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": case,
                "case": case,
                "title": f"{title} — {case.reference}",
                "change_url": reverse("admin:cases_case_change", args=[case.pk]),
                **context,
            },
        )

    def _back(self, case: Case) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))

    def transition_view(self, request: HttpRequest, object_id: str):
        case = self._case(request, object_id)
        form = TransitionForm(request.POST or None)
        if request.method != "POST" or not form.is_valid():
            self.message_user(request, "Choose a status to move to.", messages.ERROR)
            return self._back(case)
        try:
            services.case_transition(
                case=case,
                to=form.cleaned_data["to"],
                actor=request.user,
                note=form.cleaned_data["note"],
                request=request,
            )
        except services.TransitionNotAllowed as refused:
            self.message_user(request, refused.messages[0], messages.ERROR)
        else:
            self.message_user(request, f"{case.reference} is now {case.get_status_display()}.")
        return self._back(case)

    def request_records_view(self, request: HttpRequest, object_id: str):
        case = self._case(request, object_id)
        categories, message = workspace.record_request_prefill(case)
        form = RecordRequestForm(
            request.POST or None, initial={"categories": categories, "message": message}
        )
        if request.method == "POST" and form.is_valid():
            try:
                workspace.record_request_send(
                    case=case,
                    categories=form.cleaned_data["categories"],
                    message=form.cleaned_data["message"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as refused:
                form.add_error(None, refused)
            else:
                self.message_user(request, "The patient has been asked for the records.")
                return self._back(case)
        return self._page(
            request,
            case,
            "request_records.html",
            "Request missing records",
            form=form,
            checklist=records.case_checklist(case),
        )

    def summary_view(self, request: HttpRequest, object_id: str):
        case = self._case(request, object_id, change=False)
        self._audit_view(request, object_id, "summary")
        if not request.user.has_perm("cases.view_summarysection"):
            raise PermissionDenied
        stale: dict[str, SummarySection] = {}
        bound: dict[str, SectionForm] = {}
        if request.method == "POST" and request.POST.get("action") == "draft":
            if not request.user.has_perm("cases.change_summarysection"):
                raise PermissionDenied
            workspace.summary_draft(case=case, by=request.user, request=request)
            self.message_user(request, "Sections not yet started were drafted. Please check them.")
            return HttpResponseRedirect(request.path)
        if request.method == "POST":
            # Each section is its own form, prefixed by its key so labels and ids stay unique.
            key = request.POST.get("section", "")
            section = get_object_or_404(SummarySection, case=case, key=key)
            form = SectionForm(request.POST, prefix=section.key)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    workspace.summary_section_save(
                        section=section,
                        edit=workspace.SectionEdit(
                            text_en=data["text_en"],
                            state_en=data["state_en"],
                            text_zh=data["text_zh"],
                            state_zh=data["state_zh"],
                            base_version=data["base_version"],
                        ),
                        by=request.user,
                        request=request,
                    )
                except workspace.StaleEdit as conflict:
                    stale[section.key] = conflict.current
                    bound[section.key] = form
                    self.message_user(
                        request,
                        "Someone else saved this section while you were editing. Your text is "
                        "still in the form; their version is shown beside it.",
                        messages.ERROR,
                    )
                except PermissionDenied as denied:
                    self.message_user(request, str(denied), messages.ERROR)
                    bound[section.key] = form
                else:
                    self.message_user(request, f"{section.get_key_display()} saved.")
                    return HttpResponseRedirect(f"{request.path}#section-{section.key}")
        sections = sorted(case.summary_sections.all(), key=lambda s: s.order)
        rows = []
        for section in sections:
            form = bound.get(section.key) or SectionForm(
                prefix=section.key,
                initial={
                    "base_version": (stale.get(section.key) or section).version,
                    "text_en": section.text_en,
                    "state_en": section.state_en,
                    "text_zh": section.text_zh,
                    "state_zh": section.state_zh,
                },
            )
            if section.key in stale:
                # Saving again replaces their version knowingly: base it on what they saved.
                form.data = form.data.copy()
                form.data[f"{section.key}-base_version"] = stale[section.key].version
            if not workspace.can_edit_english(request.user):
                form.fields["text_en"].disabled = True
                form.fields["state_en"].disabled = True
            if not workspace.can_edit_chinese(request.user):
                form.fields["text_zh"].disabled = True
                form.fields["state_zh"].disabled = True
            rows.append(
                {
                    "section": section,
                    "form": form,
                    "heading_zh": glossary.SECTIONS[section.key],
                    "stale": stale.get(section.key),
                }
            )
        return self._page(
            request,
            case,
            "summary.html",
            "Case summary",
            rows=rows,
            glossary=glossary.ALL,
            can_draft=request.user.has_perm("cases.change_summarysection"),
        )

    def summary_history_view(self, request: HttpRequest, object_id: str, key: str):
        case = self._case(request, object_id, change=False)
        self._audit_view(request, object_id, "summary_history")
        section = get_object_or_404(SummarySection, case=case, key=key)
        versions = list(
            section.history.select_related("history_user").order_by("-history_date")[:20]
        )
        changes = []
        for newer, older in zip(versions, [*versions[1:], None], strict=True):
            changes.append(
                {
                    "version": newer,
                    "diff_en": _diff(older.text_en if older else "", newer.text_en),
                    "diff_zh": _diff(older.text_zh if older else "", newer.text_zh),
                }
            )
        return self._page(
            request, case, "summary_history.html", f"History of {section.get_key_display()}",
            section=section, changes=changes,
        )  # fmt: skip

    def directions_view(self, request: HttpRequest, object_id: str):
        case = self._case(request, object_id)
        self._audit_view(request, object_id, "directions")
        form = DirectionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                workspace.direction_confirm(
                    case=case,
                    direction=form.cleaned_data["direction"],
                    rationale=form.cleaned_data["rationale"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as refused:
                form.add_error("rationale", refused)
            else:
                self.message_user(request, "Direction confirmed.")
                return HttpResponseRedirect(request.path)
        return self._page(
            request,
            case,
            "directions.html",
            "China medical directions",
            suggestions=workspace.directions_suggest(case),
            form=form,
        )

    def outcome_view(self, request: HttpRequest, object_id: str):
        case = self._case(request, object_id)
        self._audit_view(request, object_id, "outcome")
        existing = getattr(case, "outcome", None) if hasattr(case, "outcome") else None
        form = OutcomeForm(
            request.POST or None,
            request.FILES or None,
            initial={
                "opinion_summary": existing.opinion_summary if existing else "",
                "next_steps": existing.next_steps if existing else "",
            },
        )
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["opinion_file"]
            if upload:
                added = records.record_add(
                    case=case,
                    file=upload,
                    category=RecordCategory.REVIEWER_OPINION,
                    uploaded_by=request.user,
                    request=request,
                )
                if added.error:
                    form.add_error("opinion_file", added.error)
            if not form.errors:
                try:
                    workspace.outcome_release(
                        case=case,
                        opinion_summary=form.cleaned_data["opinion_summary"],
                        next_steps=form.cleaned_data["next_steps"],
                        by=request.user,
                        request=request,
                    )
                except ValidationError as refused:
                    form.add_error(None, refused)
                else:
                    self.message_user(request, "The outcome is now on the patient's case page.")
                    return self._back(case)
        return self._page(request, case, "outcome.html", "Outcome and next steps", form=form)

    def record_view(self, request: HttpRequest, object_id: str, public_id, kind: str):
        case = self._case(request, object_id, change=False)
        record = get_object_or_404(Record, case=case, public_id=public_id)
        stored = {"file": record.derivative, "thumbnail": record.thumbnail}.get(kind)
        if record.state != Record.State.READY or not stored:
            raise Http404("No such record")
        extension = stored.name.rsplit(".", 1)[-1]
        return private_file_response(
            stored=stored,
            request=request,
            case=case,
            action=(
                AuditEvent.Action.RECORD_DOWNLOADED
                if kind == "file"
                else AuditEvent.Action.RECORD_VIEWED
            ),
            target=str(record.public_id),
            content_type="image/jpeg" if kind == "thumbnail" else record.derivative_type,
            filename=f"{case.reference}-{record.category}.{extension}" if kind == "file" else "",
        )

    def case_files_view(self, request: HttpRequest, object_id: str):
        case = self._case(request, object_id)
        self._audit_view(request, object_id, "case_files")
        if request.method == "POST":
            action = request.POST.get("action", "")
            try:
                if action in {"internal", "partner", "regenerate-internal", "regenerate-partner"}:
                    variant = action.removeprefix("regenerate-")
                    casefile.case_file_request(
                        case=case,
                        variant=variant,
                        by=request.user,
                        regenerate=action.startswith("regenerate-"),
                    )
                    self.message_user(request, f"The {variant} case file is being made.")
                elif action == "accept-identifier":
                    casefile.identifier_accept(
                        case=case,
                        text=request.POST.get("text", "")[:200],
                        kind=request.POST.get("kind", "")[:30],
                        by=request.user,
                    )
                elif action in {"approve", "release"}:
                    target = get_object_or_404(
                        CaseFile, case=case, public_id=request.POST.get("case_file")
                    )
                    if action == "approve":
                        casefile.case_file_approve(case_file=target, by=request.user)
                    else:
                        casefile.case_file_release(case_file=target, by=request.user)
                    self.message_user(request, "Done.")
            except ValidationError as refused:
                self.message_user(request, refused.messages[0], messages.ERROR)
            return HttpResponseRedirect(request.path)
        files = case.case_files.all()
        return self._page(
            request,
            case,
            "case_files.html",
            "PDF case files",
            files=files,
            hits=casefile.identifier_scan(case),
            sharing_consent=casefile.sharing_consent_active(case),
            rendering=any(
                f.state in {CaseFile.State.QUEUED, CaseFile.State.RENDERING} for f in files
            ),
        )

    def case_file_download(self, request: HttpRequest, object_id: str, public_id):
        case = self._case(request, object_id, change=False)
        case_file = get_object_or_404(CaseFile, case=case, public_id=public_id)
        if case_file.state != CaseFile.State.READY:
            raise Http404("Not ready")
        return private_file_response(
            stored=case_file.file,
            request=request,
            case=case,
            action=AuditEvent.Action.CASE_FILE_DOWNLOADED,
            target=str(case_file.public_id),
            content_type="application/pdf",
            filename=f"{case.reference}-{case_file.variant}-v{case_file.version}.pdf",
        )


def _diff(before: str, after: str) -> list[tuple[str, str]]:
    """Line diff as (kind, text) pairs: kind is '+', '-' or ' '."""
    lines = difflib.ndiff(before.splitlines(), after.splitlines())
    return [(line[0], line[2:]) for line in lines if line[:1] in {"+", "-", " "}]


class SummarySectionForm(forms.ModelForm):
    """Carries the version the editor started from, so a later save by someone else is
    caught before anything is overwritten."""

    base_version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = SummarySection
        fields = ["text_en", "state_en", "text_zh", "state_zh"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["base_version"].initial = self.instance.version

    def clean(self):
        data = super().clean()
        current = SummarySection.objects.filter(pk=self.instance.pk).first()
        if current and data.get("base_version") != current.version:
            # The typed text stays in the form; the other version is shown beside it.
            raise ValidationError(
                "Someone else saved this section while you were editing. Your text is still "
                "below; their version — English: %(en)s — Chinese: %(zh)s. Save again to "
                "replace theirs.",
                params={"en": current.text_en or "(empty)", "zh": current.text_zh or "(empty)"},
            )
        if current:
            data["base_version"] = current.version
        return data


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
        sections = super().get_queryset(request)
        if workspace.can_edit_english(request.user):
            # Coordinators: the cases they may read. Translators translate every case.
            sections = sections.filter(visible_case_q(request.user, "case__"))
        return sections

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return workspace.can_edit_english(request.user) or workspace.can_edit_chinese(request.user)

    def get_readonly_fields(self, request, obj=None):
        readonly = ["case", "key"]
        if not workspace.can_edit_english(request.user):
            readonly += ["text_en", "state_en"]
        if not workspace.can_edit_chinese(request.user):
            readonly += ["text_zh", "state_zh"]
        return readonly

    def change_view(self, request, object_id, form_url="", extra_context=None):
        section = SummarySection.objects.filter(pk=object_id).select_related("case").first()
        if section is not None and request.method == "GET":
            services.audit_log(
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
            workspace.summary_section_save(
                section=current,
                edit=workspace.SectionEdit(
                    text_en=obj.text_en,
                    state_en=obj.state_en,
                    text_zh=obj.text_zh,
                    state_zh=obj.state_zh,
                    base_version=form.cleaned_data["base_version"],
                ),
                by=request.user,
                request=request,
            )
        except (workspace.StaleEdit, PermissionDenied) as refused:
            self.message_user(request, str(refused), messages.ERROR)


@admin.register(MedicalDirection)
class MedicalDirectionAdmin(admin.ModelAdmin):
    list_display = ["name_en", "name_zh", "area", "high_risk", "in_area_checklist"]
    list_filter = ["area", "high_risk"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The checklist may have changed: open cases of this area count again.
        updated = records.area_completeness_refresh(obj.area)
        self.message_user(request, f"Record checklists refreshed for {updated} open cases.")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "case", "actor", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["=case__reference"]
    list_select_related = ["case", "actor"]
    show_full_result_count = False

    def get_queryset(self, request):
        events = super().get_queryset(request)
        if request.user.has_perm("cases.view_all_cases"):
            return events
        return events.filter(case__isnull=False).filter(visible_case_q(request.user, "case__"))

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
    show_full_result_count = False
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
