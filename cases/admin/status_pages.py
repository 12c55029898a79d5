"""Moving a case on: status buttons (stale pages refused, final moves confirmed),
withdrawal on the patient's request, and the opinion and outcome once the review is back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse

from cases import workspace
from cases.admin.forms import CONSEQUENCES, OpinionForm, OutcomeForm, TransitionForm, WithdrawForm
from cases.domain.workflow import CONFIRM_FIRST, NOTE_REQUIRED, Status
from cases.models import Case, CaseOutcome
from cases.transitions import TransitionNotAllowed, case_transition
from medchina.http import AuthenticatedHttpRequest


def _form_errors(form: forms.Form, refused: ValidationError) -> None:
    """A service's refusal shown on the form: under its field, or at the top."""
    if not hasattr(refused, "error_dict"):
        form.add_error(None, refused)
        return
    for field, errors in refused.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class StatusPagesMixin(admin.ModelAdmin):
    """Views of ``CaseAdmin``; ``_case``, ``_page`` and ``_back`` live on ``CasePagesMixin``."""

    if TYPE_CHECKING:

        def _case(self, request: HttpRequest, object_id: str, *, change: bool = True) -> Case: ...

        def _page(
            self, request: HttpRequest, case: Case, template: str, title: str, **context: Any
        ) -> TemplateResponse: ...

        def _back(self, case: Case) -> HttpResponseRedirect: ...

        def _audit_view(self, request: HttpRequest, object_id: str, page: str) -> None: ...

    def transition_view(self, request: AuthenticatedHttpRequest, object_id: str):
        case = self._case(request, object_id)
        form = TransitionForm(request.POST or None)
        if request.method != "POST" or not form.is_valid():
            self.message_user(request, "Choose a status to move to.", messages.ERROR)
            return self._back(case)
        target = Status(form.cleaned_data["to"])
        expected = form.cleaned_data["expected"]
        note = form.cleaned_data["note"]
        if target in CONFIRM_FIRST and form.cleaned_data["confirm"] != "yes":
            # Final moves are asked about first, on a page of their own.
            return self._page(
                request,
                case,
                "transition_confirm.html",
                f"Move to {target.label.lower()}",
                target=target,
                expected=expected,
                note=note,
                note_required=target in NOTE_REQUIRED,
                transition_url=request.get_full_path(),
                consequence=CONSEQUENCES.get(target, ""),
            )
        try:
            case_transition(
                case=case,
                to=target,
                actor=request.user,
                note=note,
                request=request,
                expected=expected,
            )
        except TransitionNotAllowed as refused:
            self.message_user(request, refused.messages[0], messages.ERROR)
        else:
            self.message_user(request, f"{case.reference} is now {case.get_status_display()}.")
        return self._back(case)

    def withdraw_view(self, request: AuthenticatedHttpRequest, object_id: str):
        case = self._case(request, object_id)
        form = WithdrawForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                workspace.case_withdraw_on_request(
                    case=case,
                    channel=form.cleaned_data["channel"],
                    note=form.cleaned_data["note"],
                    confirmed=form.cleaned_data["confirmed"],
                    expected=request.POST.get("expected", ""),
                    by=request.user,
                    request=request,
                )
            except TransitionNotAllowed as refused:
                self.message_user(request, refused.messages[0], messages.ERROR)
                return self._back(case)
            except ValidationError as refused:
                _form_errors(form, refused)
            else:
                self.message_user(
                    request, f"{case.reference} was withdrawn at the patient's request."
                )
                return self._back(case)
        return self._page(
            request, case, "withdraw.html", "Withdraw on the patient's request", form=form
        )

    def outcome_view(self, request: AuthenticatedHttpRequest, object_id: str):
        case = self._case(request, object_id)
        self._audit_view(request, object_id, "outcome")
        existing = CaseOutcome.objects.filter(case=case).first()
        form: OpinionForm | OutcomeForm | None
        if case.status == Status.SHARED:
            # First the reviewers' opinion, kept as a record; it moves the case on.
            form = OpinionForm(request.POST or None, request.FILES or None)
            if request.method == "POST" and form.is_valid():
                try:
                    workspace.opinion_receive(
                        case=case,
                        file=form.cleaned_data["opinion_file"],
                        expected=request.POST.get("expected", ""),
                        by=request.user,
                        request=request,
                    )
                except ValidationError as refused:
                    form.add_error("opinion_file", refused.messages[0])
                else:
                    self.message_user(
                        request, "Opinion received: now write the outcome for the patient."
                    )
                    return HttpResponseRedirect(request.get_full_path())
            stage = "opinion"
        elif case.status == Status.OPINION_RECEIVED:
            form = OutcomeForm(
                request.POST or None,
                initial={
                    "opinion_summary": existing.opinion_summary if existing else "",
                    "next_steps": existing.next_steps if existing else "",
                },
            )
            if request.method == "POST" and form.is_valid():
                try:
                    workspace.outcome_release(
                        case=case,
                        opinion_summary=form.cleaned_data["opinion_summary"],
                        next_steps=form.cleaned_data["next_steps"],
                        confirmed=form.cleaned_data["confirmed"],
                        by=request.user,
                        request=request,
                        seen_release=request.POST.get("seen_release", ""),
                    )
                except ValidationError as refused:
                    _form_errors(form, refused)
                else:
                    self.message_user(request, "The outcome is now on the patient's case page.")
                    return self._back(case)
            stage = "outcome"
        else:
            form, stage = None, "wait"
        return self._page(
            request,
            case,
            "outcome.html",
            "Outcome and next steps",
            form=form,
            stage=stage,
            outcome=existing,
            seen_release=workspace.release_marker(existing),
        )
