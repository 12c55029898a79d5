"""The case page's workspace pages: status, record requests, summary, directions,
outcome, records and case files. Each parses the form, calls one service and responds."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from cases import access, workspace
from cases.admin.case_file_pages import CaseFilePagesMixin
from cases.admin.forms import (
    DirectionForm,
    RecordRequestForm,
)
from cases.admin.redaction import RedactionPagesMixin
from cases.admin.status_pages import StatusPagesMixin
from cases.admin.summary_editor import SummaryEditorMixin
from cases.audit import audit_log
from cases.casefile import services as casefile
from cases.casefile.approval import approval_checks, case_file_approve
from cases.casefile.identifiers import (
    flagged_summary_text,
    free_text_of,
    identifier_accept,
    identifier_fix,
    identifier_scan,
)
from cases.casefile.partner import partner_file_problems
from cases.models import AuditEvent, Case, CaseFile, Record
from cases.records.selectors import case_checklist
from cases.serving import private_file_response
from cases.summary import selectors as summary_selectors
from cases.summary import services as summary_services
from medchina.http import AuthenticatedHttpRequest


class CasePagesMixin(RedactionPagesMixin, StatusPagesMixin, SummaryEditorMixin, CaseFilePagesMixin):
    """The custom pages of ``CaseAdmin``; every one starts from ``access.staff_cases``."""

    def _audit_view(self, request, object_id: str, page: str) -> None:
        """Staff reading a case is an access to health data: record it like any other."""
        if request.method == "GET":
            case = self.get_queryset(request).filter(pk=object_id).first()
            if case is not None:
                audit_log(
                    action=AuditEvent.Action.CASE_VIEWED,
                    actor=request.user,
                    case=case,
                    target=page,
                    request=request,
                )

    # --- Workspace pages ---------------------------------------------------------------

    def case_page_url(self, function, name: str, route: str):
        """A workspace page under a case: /admin/cases/case/<ref>/<route>, named
        ``admin:cases_case_<name>``, behind the admin's sign-in and second factor."""
        return path(
            f"<path:object_id>/{route}",
            self.admin_site.admin_view(function),
            name=f"cases_case_{name}",
        )

    def get_urls(self):
        view = self.case_page_url
        return [
            view(self.transition_view, "transition", "transition/"),
            view(self.withdraw_view, "withdraw", "withdraw/"),
            view(self.request_records_view, "request_records", "request-records/"),
            view(self.summary_view, "summary", "summary/"),
            view(self.summary_history_view, "summary_history", "summary/<str:key>/history/"),
            view(self.directions_view, "directions", "directions/"),
            view(self.outcome_view, "outcome", "outcome/"),
            view(self.redaction_view, "redaction", "records/<uuid:public_id>/redaction/"),
            view(
                self.redaction_picture,
                "redaction_picture",
                "records/<uuid:public_id>/redaction/<int:number>.jpg",
            ),
            view(self.record_view, "record", "records/<uuid:public_id>/<str:kind>/"),
            view(self.case_files_view, "case_files", "case-files/"),
            view(self.case_file_download, "case_file", "case-files/<uuid:public_id>/"),
            view(
                self.case_file_pages_view, "case_file_pages", "case-files/<uuid:public_id>/pages/"
            ),
            view(
                self.case_file_page_image,
                "case_file_page",
                "case-files/<uuid:public_id>/pages/<int:number>.jpg",
            ),
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
                # The trail already names the case: its last step is the page alone.
                "crumb": title,
                "change_url": reverse("admin:cases_case_change", args=[case.pk]),
                **context,
            },
        )

    def _back(self, case: Case) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))

    def request_records_view(self, request: AuthenticatedHttpRequest, object_id: str):
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
            checklist=case_checklist(case),
        )

    def summary_history_view(self, request: AuthenticatedHttpRequest, object_id: str, key: str):
        case = self._case(request, object_id, change=False)
        section = access.staff_summary_section(case, key)
        self._audit_view(request, object_id, "summary_history")
        changes = summary_selectors.section_changes(section)
        return self._page(
            request, case, "summary_history.html", f"History of {section.get_key_display()}",
            section=section, changes=changes,
        )  # fmt: skip

    def directions_view(self, request: AuthenticatedHttpRequest, object_id: str):
        case = self._case(request, object_id)
        self._audit_view(request, object_id, "directions")
        show_all = request.GET.get("show") == "all"
        form = DirectionForm(request.POST or None, case=case, show_all=show_all)
        if request.method == "POST" and form.is_valid():
            try:
                workspace.direction_confirm(
                    case=case,
                    direction=form.cleaned_data["direction"],
                    rationale=form.cleaned_data["rationale"],
                    rationale_zh=form.cleaned_data["rationale_zh"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as refused:
                form.add_error("rationale", refused)
            else:
                self.message_user(request, "Direction confirmed.")
                return HttpResponseRedirect(request.get_full_path())
        return self._page(
            request,
            case,
            "directions.html",
            "China medical directions",
            suggestions=workspace.directions_suggest(case),
            form=form,
            show_all=show_all,
        )

    def record_view(self, request: AuthenticatedHttpRequest, object_id: str, public_id, kind: str):
        # Translators read the records of the summaries they translate (audited below).
        case = access.staff_case_for_summary(request.user, object_id)
        record = access.staff_record(case, public_id)
        stored = {"file": record.derivative, "thumbnail": record.thumbnail}.get(kind)
        if record.state != Record.State.READY or not stored:
            raise Http404("No such record")
        extension = (stored.name or "").rsplit(".", 1)[-1]
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

    def case_files_view(self, request: AuthenticatedHttpRequest, object_id: str):
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
                    identifier_accept(
                        case=case,
                        text=request.POST.get("text", "")[:200],
                        kind=request.POST.get("kind", "")[:30],
                        reason=request.POST.get("reason", "")[:500],
                        by=request.user,
                    )
                elif action == "edit-text":
                    self._flagged_text_save(request, case)
                    self.message_user(request, "The text is saved.")
                elif action == "approve":
                    target = access.staff_case_file(case, request.POST.get("case_file"))
                    case_file_approve(
                        case_file=target,
                        by=request.user,
                        no_records_reason=request.POST.get("no_records_reason", "")[:2000],
                        request=request,
                    )
                    self.message_user(
                        request,
                        f"Partner file v{target.version} approved. The case can now be moved "
                        "to Ready.",
                    )
                elif action == "release":
                    target = access.staff_case_file(case, request.POST.get("case_file"))
                    if request.POST.get("confirm") != "yes":
                        # Releasing cannot be taken back: the patient is told and may read it.
                        raise ValidationError(
                            "Nothing was released: tick “The patient may read it now” first."
                        )
                    casefile.case_file_release(case_file=target, by=request.user)
                    self.message_user(request, "Released to the patient.")
            except ValidationError as refused:
                for message in refused.messages:
                    self.message_user(request, message, messages.ERROR)
            except PermissionDenied as refused:
                self.message_user(request, str(refused), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        files = list(case.case_files.select_related("approved_by"))
        newest_partner = max(
            (f for f in files if f.variant == CaseFile.Variant.PARTNER),
            key=lambda f: f.version,
            default=None,
        )
        checks = (
            approval_checks(case_file=newest_partner, by=request.user)
            if newest_partner and not newest_partner.approved_at
            else []
        )
        return self._page(
            request,
            case,
            "case_files.html",
            "PDF case files",
            files=files,
            hits=[
                {"hit": hit, "current": free_text_of(case, hit.source) if hit.source else ""}
                for hit in identifier_scan(case)
            ],
            problems=partner_file_problems(case),
            sharing_consent=access.sharing_consent_active(case),
            newest_partner=newest_partner,
            checks=checks,
            # Release is a two-person decision: the person who may not approve this version
            # is told so, instead of being offered a button that would refuse them.
            not_yours=next(
                (c.message for c in checks if c.name == "second_person" and not c.passed), ""
            ),
            # Other coordinators reach the case only in Review (cases/access.py).
            open_to_others=access.open_to_every_coordinator(case),
            rendering=any(
                f.state in {CaseFile.State.QUEUED, CaseFile.State.RENDERING} for f in files
            ),
        )

    def _flagged_text_save(self, request: AuthenticatedHttpRequest, case: Case) -> None:
        """A flagged text edited where it stands; a summary section through the summary."""
        source, text = request.POST.get("source", ""), request.POST.get("text", "")
        summary_text = flagged_summary_text(case, source)
        if summary_text is None:
            identifier_fix(case=case, source=source, text=text, by=request.user)
            return
        section, field = summary_text
        summary_services.summary_section_text_replace(
            section=section, field=field, text=text, by=request.user, request=request
        )

    def case_file_download(self, request: AuthenticatedHttpRequest, object_id: str, public_id):
        case = self._case(request, object_id, change=False)
        case_file = access.staff_case_file(case, public_id)
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
