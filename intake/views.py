"""The public site and the patient portal. Thin: parse with a form, call a service."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from cases import access, services, transitions
from cases.audit import audit_log, client_ip
from cases.domain.consents import ConsentKind, consent_text
from cases.domain.preparation import PREPARATION_QUESTIONS
from cases.domain.workflow import Status
from cases.messaging import services as messaging
from cases.models import AuditEvent, Membership, Record
from cases.records.selectors import case_checklist
from cases.selectors import case_has_high_risk_direction
from cases.tasks import sign_in_link_request
from intake import guidance, wizard
from intake.accounts import mask_email
from intake.forms import HoneypotMixin, SafetyForm, SignInForm
from intake.models import EnquiryDraft
from intake.portal_forms import PreparationForm
from intake.progress import case_progress
from medchina.http import AuthenticatedHttpRequest

logger = logging.getLogger(__name__)

SAFETY_PASSED = "safety_check_passed"
DRAFT_KEY = "enquiry_draft_id"


# --- Public pages -----------------------------------------------------------------------


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/landing.html")


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/privacy.html")


def contact(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/contact.html")


def guidance_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "intake/guidance.html",
        {
            "may_suit": guidance.MAY_SUIT,
            "may_not_suit": guidance.MAY_NOT_SUIT,
            "areas": guidance.AREAS,
            "records": guidance.RECORDS,
            "steps": guidance.STEPS,
            "questions": [text for _key, text in PREPARATION_QUESTIONS],
            "next_steps": guidance.NEXT_STEPS,
            "high_risk_treatments": guidance.HIGH_RISK_TREATMENTS,
            "high_risk_text": guidance.HIGH_RISK_TEXT,
            "faq": guidance.FAQ,
        },
    )


def safety_check(request: HttpRequest) -> HttpResponse:
    form = SafetyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["urgent"] == "yes":
            # Nothing is stored on this path: no session, no draft, no log of answers.
            return redirect("intake:urgent")
        request.session[SAFETY_PASSED] = True
        return redirect("intake:step", slug=wizard.STEPS[0].slug)
    return render(request, "intake/safety_check.html", {"form": form})


def urgent(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/urgent.html")


# --- The enquiry wizard -----------------------------------------------------------------


def _draft(request: HttpRequest) -> EnquiryDraft | None:
    draft_id = request.session.get(DRAFT_KEY)
    return EnquiryDraft.objects.filter(pk=draft_id).first() if draft_id else None


def _draft_or_new(request: HttpRequest) -> EnquiryDraft:
    draft = _draft(request)
    if draft is None:
        draft = EnquiryDraft.objects.create()
        request.session[DRAFT_KEY] = str(draft.pk)
    return draft


def enquiry_step(request: HttpRequest, slug: str) -> HttpResponse:
    step = wizard.BY_SLUG.get(slug)
    if step is None:
        return page_not_found(request, None)
    if not request.session.get(SAFETY_PASSED):
        return redirect("intake:start")
    draft = _draft_or_new(request)
    if draft.case_id:
        return redirect("intake:submitted")
    returning_to_review = request.GET.get("return") == "review"

    if request.method == "POST":
        form = wizard.step_form(step, draft, data=request.POST)
        if isinstance(form, HoneypotMixin) and form.is_bot():
            return bad_request(request)
        if form.is_valid():
            draft.data[step.slug] = wizard.to_stored(form.cleaned_data)
            draft.typed.pop(step.slug, None)
            draft.save(update_fields=["data", "typed", "updated_at"])
            following = wizard.step_after(step.slug)
            if returning_to_review or following is None:
                return redirect("intake:review")
            return redirect("intake:step", slug=following)
        # Kept apart from the answers, so Back, a return or a reload shows what was typed.
        typed = wizard.typed_values(form)
        if draft.typed.get(step.slug) != typed:
            draft.typed[step.slug] = typed
            draft.save(update_fields=["typed", "updated_at"])
    else:
        # Errors are not shown again here: they may depend on answers changed since, and
        # the next Continue checks everything afresh.
        stored = wizard.step_initial(step, draft)
        form = (
            wizard.step_form(step, draft, initial=stored)
            if stored
            else wizard.step_form(step, draft)
        )

    index = wizard.STEPS.index(step)
    previous = wizard.STEPS[index - 1].slug if index else None
    return render(
        request,
        "intake/step.html",
        {
            "form": form,
            "step": step,
            "step_number": index + 1,
            "step_count": len(wizard.STEPS),
            "previous": previous,
            "returning_to_review": returning_to_review,
            "not_yet_saved": request.method == "GET" and step.slug in draft.typed,
            "for_someone_else": draft.data.get("who", {}).get("filling_in_for") == "family",
        },
    )


def enquiry_review(request: HttpRequest) -> HttpResponse:
    if not request.session.get(SAFETY_PASSED):
        return redirect("intake:start")
    draft = _draft(request)
    if draft is None:
        return redirect("intake:start")
    if draft.case_id:
        return redirect("intake:submitted")
    missing = wizard.first_incomplete(draft)
    if missing is not None:
        return redirect("intake:step", slug=missing.slug)
    return render(request, "intake/review.html", {"sections": wizard.review_rows(draft)})


def _enquiry_ratelimit_key(group: str, request: HttpRequest) -> str:
    draft = _draft(request)
    email = draft.data.get("contact", {}).get("contact_email", "") if draft else ""
    return email.lower() or request.META.get("REMOTE_ADDR", "")


@require_POST
def enquiry_submit(request: HttpRequest) -> HttpResponse:
    draft_id = request.session.get(DRAFT_KEY)
    if not draft_id or not request.session.get(SAFETY_PASSED):
        return redirect("intake:start")
    with transaction.atomic():
        # The row lock makes a double click (or two tabs) send one enquiry, not two.
        draft = EnquiryDraft.objects.select_for_update().filter(pk=draft_id).first()
        if draft is None:
            return redirect("intake:start")
        if draft.case_id:
            return redirect("intake:submitted")
        limited = any(
            is_ratelimited(
                request,
                group="enquiry",
                key=key,
                rate=settings.MEDCHINA_RATELIMIT_ENQUIRY,
                method="POST",
                increment=True,
            )
            for key in ("ip", _enquiry_ratelimit_key)
        )
        if limited:
            return render(request, "intake/rate_limited.html", status=429)
        try:
            enquiry = wizard.enquiry_from_draft(draft)
        except ValueError as incomplete:
            return redirect("intake:step", slug=str(incomplete))
        case = services.case_submit(enquiry=enquiry, request=request)
        draft.case = case
        draft.data = {}  # the answers now live on the case; keep no second copy
        draft.typed = {}
        draft.save(update_fields=["case", "data", "typed", "updated_at"])
    return redirect("intake:submitted")


def enquiry_submitted(request: HttpRequest) -> HttpResponse:
    draft = _draft(request)
    case = draft.case if draft is not None else None
    if case is None:
        return redirect("intake:start")
    return render(
        request,
        "intake/submitted.html",
        {"reference": case.reference, "email": case.contact_email},
    )


def enquiry_restart(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        request.session.pop(DRAFT_KEY, None)
        # A new enquiry may be about someone else, or things may have changed: ask the
        # safety question again rather than carry the last answer over.
        request.session.pop(SAFETY_PASSED, None)
    return redirect("intake:start")


# --- Sign-in links ------------------------------------------------------------------------


def _email_ratelimit_key(group: str, request: HttpRequest) -> str:
    # Case and spaces do not make a new address: count them together.
    return request.POST.get("email", "").strip().lower()


def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        limited = any(
            is_ratelimited(
                request,
                group="sign-in",
                key=key,
                rate=settings.MEDCHINA_RATELIMIT_SIGN_IN,
                method="POST",
                increment=True,
            )
            for key in ("ip", _email_ratelimit_key)
        )
        if limited:
            return render(request, "intake/rate_limited.html", status=429)
        if not form.is_bot():
            # The lookup and the e-mail happen in a task: this page does the same work,
            # in the same time, whether or not we know the address.
            try:
                sign_in_link_request.delay(form.cleaned_data["email"], client_ip(request))
            except Exception:
                logger.exception("sign-in link request could not be queued")
                return render(request, "intake/sign_in_unavailable.html", status=503)
        # The same answer whether or not we know the address.
        return redirect("intake:sign_in_sent")
    return render(request, "intake/sign_in.html", {"form": form})


def sign_in_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/sign_in_sent.html")


def sign_in_link(request: HttpRequest) -> HttpResponse:
    """Sign-in links carry their token after "#", which browsers never send to a server.

    So no token reaches an access log or a Referer header. The page's script (or, without
    JavaScript, the person) puts it in a form; posting it only *checks* the token and
    names the account ("Continue as m•••@example.org"), so a mail scanner that runs the
    script spends nothing. Only pressing Continue uses the single-use token. A token in
    the query string is ignored: such a URL has already been written to a log.
    """
    next_path = request.POST.get("next") or request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_path, allowed_hosts=None):
        next_path = reverse("intake:portal")
    context = {"next": next_path, "form": SignInForm()}
    if request.method != "POST":
        return render(request, "intake/sign_in_link.html", context)
    token = request.POST.get("token", "").strip()
    # sesame's get_user() reads tokens from the query string only; the token comes in a
    # POST here, so authenticate directly. authenticate() leaves the token valid; login()
    # updates last_login, which is what spends it.
    user = authenticate(request, sesame=token, scope="", max_age=None) if token else None
    if user is None and request.user.is_authenticated and not request.user.is_staff:
        # Someone already signed in who opens the e-mail's link again (it is spent by
        # their own sign-in) goes on to their case instead of being told it failed.
        return redirect(next_path)
    if user is None:
        return render(request, "intake/sign_in_link_invalid.html", context, status=400)
    if request.POST.get("step") != "continue":
        return render(
            request,
            "intake/sign_in_confirm.html",
            {**context, "token": token, **_whose_account(request, user)},
        )
    login(request, user, backend="sesame.backends.ModelBackend")
    audit_log(action=AuditEvent.Action.SIGNED_IN, actor=user, request=request)
    return redirect(next_path)


def _whose_account(request: HttpRequest, user) -> dict[str, str]:
    """Name the account a link opens, and whose browser it is being opened in.

    A link forwarded by someone else would otherwise sign its reader in as that person.
    """
    current = request.user if request.user.is_authenticated else None
    return {
        "account": mask_email(user.email),
        "signed_in_as": mask_email(current.email) if current and current.pk != user.pk else "",
    }


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("intake:landing")


# --- The portal ----------------------------------------------------------------------------


@login_required
def portal(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = list(access.memberships_for(request.user))
    unread = messaging.unread_by_case([m.case_id for m in memberships], request.user)
    for membership in memberships:
        # Messages this person may not read are not news to them.
        membership.unread_messages = (  # type: ignore[attr-defined]
            unread.get(membership.case_id, 0) if access.may_read_messages(membership) else 0
        )
    return render(request, "intake/portal.html", {"memberships": memberships})


@login_required
def case_detail(request: AuthenticatedHttpRequest, ref: str) -> HttpResponse:
    case, membership = access.case_for_member(request.user, ref)
    audit_log(action=AuditEvent.Action.CASE_VIEWED, actor=request.user, case=case, request=request)
    preparation = PreparationForm(
        questions=PREPARATION_QUESTIONS, initial={"ticked": case.preparation_ticked}
    )
    headline, next_step = case.status_for_patient
    # Both counts in one query.
    counts = access.records_visible_to(membership).aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(state__in=[Record.State.RECEIVED, Record.State.CHECKING])),
    )
    events = list(case.events.all())
    # A family helper sees the case's health content only if the patient allowed it.
    sees_all = access.sees_whole_case(membership)
    sharing_consent = access.active_consent(case, ConsentKind.SHARING)
    progress = case_progress(
        status=case.status,
        submitted_at=case.submitted_at,
        events=events,
        has_sharing_consent=sharing_consent is not None,
        viewer_manages_case=membership.manages_case,
    )
    high_risk = sees_all and (
        case.medical_area in guidance.HIGH_RISK_AREAS or case_has_high_risk_direction(case)
    )
    return render(
        request,
        "intake/case_detail.html",
        {
            "case": case,
            "membership": membership,
            "headline": headline,
            "next_step": next_step,
            "preparation": preparation,
            "events": events,
            "coordinator_note": events[-1].note
            if events and case.status == Status.DECLINED
            else "",
            "checklist": case_checklist(case) if sees_all else [],
            "sees_all": sees_all,
            "record_request": access.open_record_request_for(membership),
            "outcome": access.outcome_for(membership),
            "case_file": access.released_case_file(case),
            "sharing_consent": sharing_consent,
            "progress": progress,
            "high_risk": high_risk,
            "high_risk_treatments": guidance.HIGH_RISK_TREATMENTS,
            "high_risk_text": guidance.HIGH_RISK_TEXT,
            "sharing_text": consent_text(
                ConsentKind.SHARING,
                on_behalf=membership.role == Membership.Role.REPRESENTATIVE,
            ).text,
            "may_give_sharing": access.may_give_sharing_consent(membership),
            "record_count": counts["total"],
            "pending_count": counts["pending"],
            "can_withdraw": access.may_withdraw(membership),
            "reads_messages": access.may_read_messages(membership),
            "unread_messages": messaging.unread_count(case=case, user=request.user)
            if access.may_read_messages(membership)
            else 0,
        },
    )


@login_required
@require_POST
def case_preparation(request: AuthenticatedHttpRequest, ref: str) -> HttpResponse:
    case, _membership = access.case_for_member_who_sees_all(request.user, ref)
    form = PreparationForm(request.POST, questions=PREPARATION_QUESTIONS)
    if form.is_valid():
        services.case_preparation_update(
            case=case, ticked=form.cleaned_data["ticked"], user=request.user, request=request
        )
    return redirect(reverse("intake:case", args=[case.reference]) + "#preparation")


@login_required
def case_withdraw(request: AuthenticatedHttpRequest, ref: str) -> HttpResponse:
    case, _membership = access.case_for_manager(request.user, ref)
    error = ""
    if request.method == "POST":
        try:
            transitions.case_withdraw(case=case, user=request.user, request=request)
        except transitions.TransitionNotAllowed as refused:
            error = refused.messages[0]
        else:
            return redirect("intake:case", ref=case.reference)
    return render(request, "intake/case_withdraw.html", {"case": case, "error": error})


# --- Error pages: friendly, and they leak nothing ----------------------------------------


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
