"""The patient's control of their data: their uploads, a download of everything, erasure,
and who has seen their case. Thin: the access rule, one service, respond."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cases import access
from cases.models import AuditEvent
from cases.privacy import erasure, export, selectors
from cases.records import removal
from cases.records import services as records
from cases.serving import private_file_response
from intake.privacy_forms import ErasureForm, ReplaceRecordForm
from medchina.http import AuthenticatedHttpRequest


@login_required
def case_data(request: AuthenticatedHttpRequest, ref: str) -> HttpResponse:
    case, _membership = access.case_for_manager(request.user, ref)
    return render(
        request,
        "intake/data.html",
        {
            "case": case,
            "export": export.data_export_current(case),
            "erasure_request": getattr(case, "erasure_request", None),
            "staff_access": selectors.staff_access_to_case(case),
            "erasure_form": ErasureForm(),
            "shared": erasure.case_was_shared(case),
        },
    )


@login_required
@require_POST
def case_data_export(request: AuthenticatedHttpRequest, ref: str) -> HttpResponse:
    case, _membership = access.case_for_manager(request.user, ref)
    export.data_export_request(case=case, by=request.user, request=request)
    messages.success(
        request,
        "We are preparing your download. This page shows when it is ready, and we will e-mail you.",
    )
    return redirect("intake:case_data", ref=case.reference)


def case_data_download(request: AuthenticatedHttpRequest, ref: str, public_id: str) -> FileResponse:
    case, _membership = access.case_for_manager(request.user, ref)
    current = export.data_export_current(case)
    if current is None or str(current.public_id) != str(public_id) or not current.file:
        raise Http404("No such download")
    return private_file_response(
        stored=current.file,
        request=request,
        case=case,
        action=AuditEvent.Action.EXPORT_DOWNLOADED,
        target=str(current.public_id),
        content_type="application/zip",
        filename=f"{case.reference}-my-data.zip",
    )


@login_required
def case_erasure(request: AuthenticatedHttpRequest, ref: str) -> HttpResponse:
    case, _membership = access.case_for_manager(request.user, ref)
    if request.method != "POST":
        return redirect("intake:case_data", ref=case.reference)
    if request.POST.get("action") == "cancel":
        erasure.erasure_cancel(case=case, by=request.user, request=request)
        messages.success(request, "Your request to erase this case is cancelled.")
        return redirect("intake:case_data", ref=case.reference)
    form = ErasureForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "intake/data.html",
            {
                "case": case,
                "export": export.data_export_current(case),
                "erasure_request": None,
                "staff_access": selectors.staff_access_to_case(case),
                "erasure_form": form,
                "shared": erasure.case_was_shared(case),
            },
            status=400,
        )
    erasure.erasure_request(case=case, by=request.user, request=request)
    messages.success(
        request,
        "We have your request. A coordinator will confirm it, usually within 2 working days, "
        "and then everything about this case is deleted.",
    )
    return redirect("intake:case_data", ref=case.reference)


@login_required
def record_delete(request: AuthenticatedHttpRequest, ref: str, public_id: str) -> HttpResponse:
    record, membership = access.record_for_member(request.user, ref, public_id)
    if not access.may_change_record(membership, record):
        raise Http404("No such record")
    if request.method == "POST":
        removal.record_delete(record=record, by=request.user, request=request)
        messages.success(request, f"{record.original_name} is deleted.")
        return redirect("intake:case_records", ref=record.case.reference)
    return render(request, "intake/record_delete.html", {"case": record.case, "record": record})


@login_required
def record_replace(request: AuthenticatedHttpRequest, ref: str, public_id: str) -> HttpResponse:
    record, membership = access.record_for_member(request.user, ref, public_id)
    if not access.may_change_record(membership, record):
        raise Http404("No such record")
    form = ReplaceRecordForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = records.record_replace(
                record=record, file=form.cleaned_data["file"], by=request.user, request=request
            )
        except ValidationError as refused:
            form.add_error("file", refused)
        else:
            if result.record is None:
                form.add_error("file", result.message)
            else:
                messages.success(request, f"{record.original_name} is replaced by {result.name}.")
                return redirect("intake:case_records", ref=record.case.reference)
    return render(
        request,
        "intake/record_replace.html",
        {"case": record.case, "record": record, "form": form},
        status=400 if form.errors else 200,
    )
