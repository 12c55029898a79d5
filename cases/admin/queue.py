"""The queue's search and bulk actions: what a coordinator does to many cases at once."""

from __future__ import annotations

import csv
import re
from typing import TYPE_CHECKING

import phonenumbers
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from cases import access, workspace
from cases.audit import audit_log
from cases.domain import reference
from cases.domain.workflow import Status
from cases.models import AuditEvent, Case
from cases.transitions import TransitionNotAllowed, case_transition

if TYPE_CHECKING:
    from medchina.http import AuthenticatedHttpRequest


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return f"'{value}" if value[:1] in {"=", "+", "-", "@"} else value


class QueueMixin(admin.ModelAdmin):
    """Search by anything a caller might quote; assign, move and export in bulk."""

    # A reference, an NHS number and a phone number are looked up exactly (see
    # get_search_results); names and e-mail addresses through these fields.
    search_fields = ["patient_name", "contact_name", "=contact_email"]
    actions = ["assign_to_me", "move_to_triage", "move_to_drafting", "export_csv"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        # A reference is the primary key: look it up directly rather than scan the table.
        canonical = reference.normalise(term) if term else None
        if canonical:
            return queryset.filter(pk=canonical), False
        digits = re.sub(r"[\s()-]", "", term)
        if re.fullmatch(r"\d{10}", digits):
            return queryset.filter(nhs_number=digits), False
        if re.fullmatch(r"\+?\d{7,15}", digits):
            # Phone numbers are stored in E.164 (+447700900123); match what was typed
            # in any common form against that.
            try:
                number = phonenumbers.parse(digits, "GB")
            except phonenumbers.NumberParseException:
                number = None
            if number is not None:
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                return queryset.filter(contact_phone=e164), False
        return super().get_search_results(request, queryset, search_term)

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        if not access.can_export_cases(request.user):
            actions.pop("export_csv", None)
        if not access.can_move_cases(request.user):
            for name in ("assign_to_me", "move_to_triage", "move_to_drafting"):
                actions.pop(name, None)
        return actions

    @admin.action(description="Assign the selected cases to me")
    def assign_to_me(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Case]) -> None:
        done, refused = 0, []
        for case in queryset:
            try:
                workspace.case_assign(
                    case=case, coordinator=request.user, by=request.user, request=request
                )
                done += 1
            except PermissionDenied:
                refused.append(case.reference)
        self._bulk_report(request, done, refused, "assigned to you")

    def _move_all(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Case], target: Status
    ) -> None:
        done, refused = 0, []
        for case in queryset:
            try:
                case_transition(
                    case=case,
                    to=target,
                    actor=request.user,
                    request=request,
                    # The status each case had when the list was read: a case someone
                    # else moved meanwhile is reported, not moved again.
                    expected=case.status,
                )
                done += 1
            except TransitionNotAllowed:
                refused.append(case.reference)
        self._bulk_report(request, done, refused, f"moved to {target.label.lower()}")

    @admin.action(description="Move the selected cases to triage")
    def move_to_triage(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Case]) -> None:
        self._move_all(request, queryset, Status.TRIAGE)

    @admin.action(description="Move the selected cases to drafting")
    def move_to_drafting(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Case]) -> None:
        self._move_all(request, queryset, Status.DRAFTING)

    def _bulk_report(self, request: HttpRequest, done: int, refused: list[str], what: str) -> None:
        if done:
            self.message_user(request, f"{done} case(s) {what}.")
        if refused:
            self.message_user(
                request,
                f"Not {what} (not allowed from their status, or not yours): " + ", ".join(refused),
                messages.WARNING,
            )

    @admin.action(description="Export the selected cases as CSV (managers)")
    def export_csv(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Case]
    ) -> HttpResponse:
        """Queue facts only (initials, no health details); every export is audited."""
        if not access.can_export_cases(request.user):
            raise PermissionDenied
        rows = list(queryset.select_related("assigned_coordinator").order_by("submitted_at"))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="cases.csv"'
        response["Cache-Control"] = "no-store, private"
        writer = csv.writer(response)
        writer.writerow(
            [
                "reference",
                "patient initials",
                "medical area",
                "status",
                "coordinator",
                "submitted",
                "essential records",
                "decision deadline",
            ]
        )
        for case in rows:
            writer.writerow(
                [
                    case.reference,
                    _csv_safe(case.patient_initials),
                    case.get_medical_area_display(),
                    case.get_status_display(),
                    _csv_safe(str(case.assigned_coordinator or "")),
                    f"{case.submitted_at:%Y-%m-%d}",
                    f"{case.essentials_total - case.essentials_missing}/{case.essentials_total}",
                    case.decision_deadline.isoformat() if case.decision_deadline else "",
                ]
            )
        audit_log(
            action=AuditEvent.Action.CASES_EXPORTED,
            actor=request.user,
            request=request,
            count=len(rows),
            references=[case.reference for case in rows][:500],
        )
        return response
