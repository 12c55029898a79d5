"""Portal pages for records and family members. Thin: parse, call cases, respond."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import TooManyFilesSent, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases import access, services
from cases.domain.consents import ConsentKind
from cases.domain.records import original_name_clean
from cases.family import selectors as family_selectors
from cases.family import services as family
from cases.models import AuditEvent, Membership, Record
from cases.records import resumable
from cases.records.selectors import case_checklist, case_storage_used, record_limits
from cases.records.services import AddResult, record_add, record_add_photos_as_one
from cases.serving import private_file_response
from intake.accounts import mask_email
from intake.limits import limit_count, limit_reached
from intake.portal_forms import InvitationForm, RecordUploadForm, ResumableUploadForm
from intake.uploads import too_large_names
from medchina.http import AuthenticatedHttpRequest


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _record_json(record: Record) -> dict:
    return {
        "id": str(record.public_id),
        "state": record.state,
        "state_label": record.get_state_display(),
        "reason": record.rejection_reason,
        "pending": record.is_pending,
    }


def _results_json(results: list[AddResult], membership: Membership) -> list[dict]:
    for result in results:
        uploader = result.duplicate_of.uploaded_by_id if result.duplicate_of else None
        result.reveal_duplicates = access.duplicate_revealed(membership, uploader)
    return [
        {
            "name": result.name,
            "ok": result.record is not None,
            "duplicate": result.duplicate_of is not None,
            "message": result.message,
            "record": _record_json(result.record) if result.record else None,
        }
        for result in results
    ]


@login_required
def case_records(request: AuthenticatedHttpRequest, ref: str) -> HttpResponse:
    case, membership = access.case_for_member(request.user, ref)
    can_upload = access.may_upload(membership)
    form = RecordUploadForm()
    results: list[AddResult] = []
    problem = ""
    status = 200
    if request.method == "POST":
        if not can_upload:
            raise Http404("No such case")
        try:
            files = request.FILES
        except TooManyFilesSent:
            files = None
            limit = record_limits().max_files
            problem = f"You chose more than {limit} files. Please upload at most {limit} at a time."
        if files is not None:
            results = [
                AddResult(
                    original_name_clean(name),
                    error=f"{original_name_clean(name)} is over the limit of "
                    f"{record_limits().max_file_size_label} a file. Split a long "
                    "PDF, or send a smaller copy.",
                )
                for name in too_large_names(request)
            ]
            form = RecordUploadForm(request.POST, files)
            if form.is_valid():
                data = form.cleaned_data
                common = {
                    "case": case,
                    "category": data["category"],
                    "document_date": data["document_date"],
                    "description": data["description"],
                    "uploaded_by": request.user,
                    "request": request,
                }
                if data["combine"] and len(data["files"]) > 1:
                    results.append(record_add_photos_as_one(files=data["files"], **common))
                else:
                    results += [record_add(file=f, **common) for f in data["files"]]
                form = RecordUploadForm(initial={"category": data["category"]})
            elif results and "files" in form.errors:
                del form.errors["files"]  # the reason is the size, said above
        results_json = _results_json(results, membership)
        status = 400 if problem or (form.errors and not results) else 200
        if _wants_json(request):
            return JsonResponse(
                {
                    "results": results_json,
                    "errors": problem
                    or " ".join(str(e) for errors in form.errors.values() for e in errors),
                },
                status=status,
            )
    visible = list(access.records_visible_to(membership))
    for record in visible:
        record.changeable = access.may_change_record(membership, record)  # type: ignore[attr-defined]
    return render(
        request,
        "intake/records.html",
        {
            "case": case,
            "membership": membership,
            "form": form,
            "can_upload": can_upload,
            "records": visible,
            "results": results,
            "problem": problem,
            "limits": record_limits(),
            "chunk_max": resumable.CHUNK_MAX,
            "used": case_storage_used(case),
            # A helper without the patient's grant is not told which kinds of record the
            # case has or lacks, nor its medical area.
            "checklist": case_checklist(case) if access.sees_whole_case(membership) else [],
            "polling": any(r.is_pending for r in visible),
        },
        status=status,
    )


@login_required
@require_POST
def upload_create(request: AuthenticatedHttpRequest, ref: str) -> JsonResponse:
    """Start a resumable upload: the file's name, size and questions, no bytes yet."""
    case, _membership = access.case_for_uploader(request.user, ref)
    form = ResumableUploadForm(request.POST)
    if not form.is_valid():
        errors = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return JsonResponse({"errors": errors}, status=400)
    data = form.cleaned_data
    try:
        upload = resumable.upload_start(
            case=case,
            user=request.user,
            name=data["name"],
            size=data["size"],
            category=data["category"],
            document_date=data["document_date"],
            description=data["description"],
        )
    except resumable.UploadRefused as refused:
        return JsonResponse({"errors": refused.message}, status=refused.status)
    return JsonResponse(
        {
            "url": reverse("intake:upload_chunk", args=[case.reference, upload.public_id]),
            "offset": 0,
            "size": upload.size,
            "chunk_max": resumable.CHUNK_MAX,
        },
        status=201,
    )


@login_required
def upload_chunk(request: AuthenticatedHttpRequest, ref: str, public_id: str) -> HttpResponse:
    """GET: how much has arrived. PATCH: the next chunk. DELETE: cancel."""
    membership, upload = access.resumable_upload_for(request.user, ref, public_id)
    headers = {"Cache-Control": "no-store"}
    if request.method in {"GET", "HEAD"}:
        return JsonResponse({"offset": upload.received, "size": upload.size}, headers=headers)
    if request.method == "DELETE":
        resumable.upload_discard(upload)
        return HttpResponse(status=204)
    if request.method != "PATCH":
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, PATCH, DELETE"})
    try:
        offset = int(request.headers.get("Upload-Offset", ""))
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return JsonResponse(
            {"errors": "A chunk needs Upload-Offset and Content-Length headers."}, status=400
        )
    try:
        outcome = resumable.upload_append(
            upload=upload, offset=offset, length=length, stream=request
        )
    except resumable.UploadRefused as refused:
        return JsonResponse(
            {"errors": refused.message, "offset": upload.received, "size": upload.size},
            status=refused.status,
            headers=headers,
        )
    body: dict = {"offset": outcome.offset, "size": upload.size}
    if outcome.complete:
        try:
            result = resumable.upload_finish(upload=upload, request=request)
        except resumable.UploadRefused as refused:
            return JsonResponse({"errors": refused.message}, status=refused.status)
        body["results"] = _results_json([result], membership)
    return JsonResponse(body, headers=headers)


@login_required
def case_records_status(request: AuthenticatedHttpRequest, ref: str) -> JsonResponse:
    case, membership = access.case_for_member(request.user, ref)
    visible = access.records_visible_to(membership)
    return JsonResponse(
        {
            "records": [_record_json(r) for r in visible],
            "checklist": [
                {"category": item.category, "present": item.present}
                for item in case_checklist(case)
            ]
            if access.sees_whole_case(membership)
            else [],
        },
        headers={"Cache-Control": "no-store"},
    )


def _serve(request: HttpRequest, ref: str, public_id: str, *, thumbnail: bool) -> FileResponse:
    record, _membership = access.record_for_member(request.user, ref, public_id)
    stored = record.thumbnail if thumbnail else record.derivative
    if record.state != Record.State.READY or not stored:
        raise Http404("No such record")
    extension = (stored.name or "").rsplit(".", 1)[-1]
    stem = record.original_name.rsplit(".", 1)[0] or "record"
    return private_file_response(
        stored=stored,
        request=request,
        case=record.case,
        action=(
            AuditEvent.Action.RECORD_VIEWED if thumbnail else AuditEvent.Action.RECORD_DOWNLOADED
        ),
        target=str(record.public_id),
        content_type="image/jpeg" if thumbnail else record.derivative_type,
        filename="" if thumbnail else f"{stem}.{extension}",
    )


# No login_required here: anonymous requests get the same 404 as everyone else.
def record_download(request: HttpRequest, ref: str, public_id: str) -> FileResponse:
    return _serve(request, ref, public_id, thumbnail=False)


def record_thumbnail(request: HttpRequest, ref: str, public_id: str) -> FileResponse:
    return _serve(request, ref, public_id, thumbnail=True)


def _invitation_limits(case, sender) -> list[dict[str, str]]:
    """Invitations are e-mails to people who never asked us for one: a case and a sender
    can each send only a few, so a taken-over account cannot spam strangers."""
    return [
        {"group": "invitation-case", "key": case.reference,
         "rate": settings.MEDCHINA_RATELIMIT_INVITATION_CASE},
        {"group": "invitation-sender", "key": str(sender.pk),
         "rate": settings.MEDCHINA_RATELIMIT_INVITATION_SENDER},
    ]  # fmt: skip


@login_required
def case_family(request: AuthenticatedHttpRequest, ref: str) -> HttpResponse:
    case, membership = access.case_for_manager(request.user, ref)
    form = InvitationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        limits = _invitation_limits(case, request.user)
        if any(limit_reached(request, **limit) for limit in limits):
            return render(
                request,
                "intake/invitation_rate_limited.html",
                {"case": case, "email": form.cleaned_data["email"]},
                status=429,
            )
        try:
            family.invitation_send(
                case=case,
                email=form.cleaned_data["email"],
                can_view_all_records=form.cleaned_data["can_view_all_records"],
                invited_by=request.user,
                request=request,
            )
        except ValidationError as refused:
            form.add_error("email", refused)
        else:
            for limit in limits:
                limit_count(request, **limit)
            messages.success(
                request, f"We have sent an invitation to {form.cleaned_data['email']}."
            )
            return redirect("intake:case_family", ref=case.reference)
    return render(
        request,
        "intake/family.html",
        {
            "case": case,
            "form": form,
            "invitations": case.invitations.all(),
            "members": access.family_members(membership),
            "history": family_selectors.family_history(case),
        },
    )


@login_required
@require_POST
def case_family_change(request: AuthenticatedHttpRequest, ref: str) -> HttpResponse:
    case, _membership = access.case_for_manager(request.user, ref)
    action = request.POST.get("action", "")
    try:
        if action == "cancel-invitation":
            invitation = access.invitation_of(case, request.POST.get("invitation"))
            family.invitation_revoke(invitation=invitation, by=request.user, request=request)
            messages.success(request, f"The invitation to {invitation.email} is cancelled.")
        elif action in {"grant-all", "own-only", "remove"}:
            member = access.family_member(case, request.POST.get("member", ""))
            if action == "remove":
                family.membership_revoke(membership=member, by=request.user, request=request)
                messages.success(request, f"{member.user.email} can no longer see this case.")
            else:
                family.membership_set_view_all(
                    membership=member,
                    can_view_all_records=action == "grant-all",
                    by=request.user,
                    request=request,
                )
                messages.success(request, f"Access for {member.user.email} is updated.")
        else:
            raise Http404("Unknown action")
    except ValidationError as refused:
        messages.error(request, refused.messages[0])
    return redirect("intake:case_family", ref=case.reference)


def invitation_accept(request: HttpRequest, public_id: str) -> HttpResponse:
    """As sign-in links: the token comes after "#" and reaches us only in a POST.

    Checking names the invited account; only "Accept" uses the single-use token.
    """
    context = {"action": reverse("intake:invitation_accept", args=[public_id])}
    if access.invitation_meant_for_someone_else(public_id, request.user):
        # Nothing changes: the invitation stays open for the person it was sent to.
        return render(request, "intake/invitation_other.html", status=403)
    if request.method != "POST":
        if joined := access.case_joined_through(public_id, request.user):
            messages.info(request, "You accepted this invitation already.")
            return redirect("intake:case_records", ref=joined.reference)
        if reason := family.invitation_closed_reason(public_id):
            return render(request, "intake/invitation_invalid.html", {"reason": reason})
        return render(request, "intake/invitation.html", context)
    token = request.POST.get("token", "").strip()
    try:
        if request.POST.get("step") != "accept":
            invitee = family.invitation_invitee(public_id=public_id, token=token, request=request)
            return render(
                request,
                "intake/invitation_confirm.html",
                {**context, "token": token, "account": mask_email(invitee.email)},
            )
        membership = family.invitation_accept(public_id=public_id, token=token, request=request)
    except family.InvitationInvalid as invalid:
        return render(
            request, "intake/invitation_invalid.html", {"reason": str(invalid)}, status=400
        )
    login(request, membership.user, backend="sesame.backends.ModelBackend")
    messages.success(request, "Thank you. You can now upload records to this case.")
    return redirect("intake:case_records", ref=membership.case.reference)


@login_required
@require_POST
def case_sharing(request: AuthenticatedHttpRequest, ref: str) -> HttpResponse:
    """Give or withdraw the separate consent to share a pseudonymised case file."""
    case, membership = access.case_for_manager(request.user, ref)
    if request.POST.get("action") == "give":
        if not access.may_give_sharing_consent(membership):
            messages.error(
                request,
                "The consent to share with China must come from the patient themselves, "
                "because you act with their permission.",
            )
        elif not request.POST.get("confirm"):
            messages.error(request, "Tick the box to confirm you agree to sharing.")
        elif not access.sharing_consent_active(case):
            services.consent_give(
                case=case,
                kind=ConsentKind.SHARING,
                user=request.user,
                request=request,
                # A representative's consent records the legal authority they stated.
                authority=case.representative_authority
                if membership.role == Membership.Role.REPRESENTATIVE
                else "",
            )
            messages.success(request, "Thank you. The consent to sharing is recorded.")
    elif request.POST.get("action") == "withdraw":
        services.consent_withdraw(
            case=case, kind=ConsentKind.SHARING, user=request.user, request=request
        )
        messages.success(
            request, "Your consent to sharing is withdrawn. Nothing more will be shared."
        )
    return redirect(reverse("intake:case", args=[case.reference]) + "#sharing")


def case_file_download(request: HttpRequest, ref: str, public_id: str) -> FileResponse:
    case_file = access.case_file_for_manager(request.user, ref, public_id)
    case = case_file.case
    return private_file_response(
        stored=case_file.file,
        request=request,
        case=case,
        action=AuditEvent.Action.CASE_FILE_DOWNLOADED,
        target=str(case_file.public_id),
        content_type="application/pdf",
        filename=f"{case.reference}-case-file-v{case_file.version}.pdf",
    )
