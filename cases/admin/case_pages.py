"""The case page's workspace pages: status, record requests, summary, directions,
outcome, records and case files. Each parses the form, calls one service and responds."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from cases import access, workspace
from cases.admin.forms import (
    DirectionForm,
    OutcomeForm,
    RecordRequestForm,
    SectionForm,
    TransitionForm,
)
from cases.audit import audit_log
from cases.casefile import services as casefile
from cases.casefile.identifiers import identifier_accept, identifier_scan
from cases.domain import glossary
from cases.models import AuditEvent, Case, CaseFile, Record, RecordCategory, SummarySection
from cases.records import services as records
from cases.records.selectors import case_checklist
from cases.serving import private_file_response
from cases.summary import selectors as summary_selectors
from cases.summary import services as summary
from cases.transitions import TransitionNotAllowed, case_transition
from medchina.http import AuthenticatedHttpRequest


class CasePagesMixin(admin.ModelAdmin):
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

    def transition_view(self, request: AuthenticatedHttpRequest, object_id: str):
        case = self._case(request, object_id)
        form = TransitionForm(request.POST or None)
        if request.method != "POST" or not form.is_valid():
            self.message_user(request, "Choose a status to move to.", messages.ERROR)
            return self._back(case)
        try:
            case_transition(
                case=case,
                to=form.cleaned_data["to"],
                actor=request.user,
                note=form.cleaned_data["note"],
                request=request,
            )
        except TransitionNotAllowed as refused:
            self.message_user(request, refused.messages[0], messages.ERROR)
        else:
            self.message_user(request, f"{case.reference} is now {case.get_status_display()}.")
        return self._back(case)

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

    def summary_view(self, request: AuthenticatedHttpRequest, object_id: str):
        case = self._case(request, object_id, change=False)
        self._audit_view(request, object_id, "summary")
        if not access.can_view_summary(request.user):
            raise PermissionDenied
        stale: dict[str, SummarySection] = {}
        bound: dict[str, SectionForm] = {}
        if request.method == "POST" and request.POST.get("action") == "draft":
            if not access.can_edit_english(request.user):
                raise PermissionDenied
            summary.summary_draft(case=case, by=request.user, request=request)
            self.message_user(request, "Sections not yet started were drafted. Please check them.")
            return HttpResponseRedirect(request.path)
        if request.method == "POST":
            # Each section is its own form, prefixed by its key so labels and ids stay unique.
            key = request.POST.get("section", "")
            section = access.staff_summary_section(case, key)
            form = SectionForm(request.POST, prefix=section.key)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    summary.summary_section_save(
                        section=section,
                        edit=summary.SectionEdit(
                            text_en=data["text_en"],
                            state_en=data["state_en"],
                            text_zh=data["text_zh"],
                            state_zh=data["state_zh"],
                            base_version=data["base_version"],
                        ),
                        by=request.user,
                        request=request,
                    )
                except summary.StaleEdit as conflict:
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
                form.data = {
                    **form.data,
                    f"{section.key}-base_version": stale[section.key].version,
                }
            if not access.can_edit_english(request.user):
                form.fields["text_en"].disabled = True
                form.fields["state_en"].disabled = True
            if not access.can_edit_chinese(request.user):
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

    def summary_history_view(self, request: AuthenticatedHttpRequest, object_id: str, key: str):
        case = self._case(request, object_id, change=False)
        self._audit_view(request, object_id, "summary_history")
        section = access.staff_summary_section(case, key)
        changes = summary_selectors.section_changes(section)
        return self._page(
            request, case, "summary_history.html", f"History of {section.get_key_display()}",
            section=section, changes=changes,
        )  # fmt: skip

    def directions_view(self, request: AuthenticatedHttpRequest, object_id: str):
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

    def outcome_view(self, request: AuthenticatedHttpRequest, object_id: str):
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

    def record_view(self, request: AuthenticatedHttpRequest, object_id: str, public_id, kind: str):
        case = self._case(request, object_id, change=False)
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
                        by=request.user,
                    )
                elif action in {"approve", "release"}:
                    target = access.staff_case_file(case, request.POST.get("case_file"))
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
            hits=identifier_scan(case),
            sharing_consent=access.sharing_consent_active(case),
            rendering=any(
                f.state in {CaseFile.State.QUEUED, CaseFile.State.RENDERING} for f in files
            ),
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
