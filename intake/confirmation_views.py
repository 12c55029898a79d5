"""The patient's own link to confirm (or disown) an enquiry someone made for them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from cases import access, representatives


def patient_confirmation(request: HttpRequest, ref: str) -> HttpResponse:
    """A GET shows who made the enquiry and two buttons; only a POST uses the link.

    Mail scanners fetch links before people do (as for sign-in links). Someone signed in
    as another person — often the representative, on the same computer — is told the
    link is the patient's, and nothing changes.
    """
    # The token comes after "#" in the e-mail's link (never in a URL a server logs) and
    # reaches us in the form: filled by the page's script, or typed from the e-mail.
    token = request.POST.get("token", "").strip()
    try:
        case = access.case_awaiting_patient_confirmation(ref)
    except Http404:
        reason = "This link is not valid."
        return render(request, "intake/confirmation_invalid.html", {"reason": reason}, status=404)
    if access.confirmation_meant_for_someone_else(case, request.user):
        return render(request, "intake/confirmation_other.html", {"case": case}, status=403)
    context = {"case": case, "token": token}
    if request.method != "POST":
        return render(request, "intake/confirmation.html", context)
    try:
        patient = representatives.confirmation_person(
            case=case, token=token, user=request.user, request=request
        )
        if request.POST.get("answer") == "no":
            representatives.patient_disown(case=case, patient=patient, request=request)
            return render(request, "intake/confirmation_disowned.html", context)
        if request.POST.get("answer") != "yes":
            context["error"] = "Choose whether you agree to this enquiry."
            return render(request, "intake/confirmation.html", context, status=400)
        representatives.patient_confirm(case=case, patient=patient, request=request)
    except representatives.ConfirmationInvalid as invalid:
        return render(
            request, "intake/confirmation_invalid.html", {"reason": str(invalid)}, status=400
        )
    if not request.user.is_authenticated:
        login(request, patient, backend="sesame.backends.ModelBackend")
    messages.success(
        request, "Thank you for confirming. You can now follow your case and add records."
    )
    return redirect("intake:case", ref=case.reference)
