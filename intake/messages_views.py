"""The secure message thread in the portal. Thin: the access rule, one service, respond."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from cases import access
from cases.audit import audit_log
from cases.messaging import services as messaging
from cases.models import AuditEvent
from cases.records.services import AddResult
from intake.privacy_forms import MessageForm
from medchina.http import AuthenticatedHttpRequest


@login_required
def case_messages(request: AuthenticatedHttpRequest, ref: str) -> HttpResponse:
    case, membership = access.case_messages_for_member(request.user, ref)
    form = MessageForm(request.POST or None, request.FILES or None)
    results: list[AddResult] = []
    if request.method == "POST":
        if form.is_valid():
            try:
                _message, results = messaging.message_send(
                    case=case,
                    author=request.user,
                    body=form.cleaned_data["body"],
                    files=form.cleaned_data["files"] or [],
                    category=form.cleaned_data["category"] or "other",
                    request=request,
                )
            except ValidationError as refused:
                form.add_error("body", refused)
            else:
                failed = [r.message for r in results if r.record is None]
                if failed:
                    # The message went; say which attachments did not, and why.
                    for text in failed:
                        flash.error(request, text)
                flash.success(request, "Your message has been sent.")
                return redirect("intake:case_messages", ref=case.reference)
    else:
        audit_log(
            action=AuditEvent.Action.CASE_VIEWED,
            actor=request.user,
            case=case,
            target="messages",
            request=request,
        )
    unread = messaging.unread_count(case=case, user=request.user)
    thread = messaging.thread_for_reader(case, request.user)
    messaging.thread_mark_read(case=case, user=request.user)
    return render(
        request,
        "intake/messages.html",
        {
            "case": case,
            "membership": membership,
            "thread": thread,
            "unread": unread,
            "form": form,
            "can_write": access.may_write_message(membership),
        },
        status=400 if form.errors else 200,
    )
