"""A step sent back with errors keeps what was typed, apart from the answers."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Case
from intake import wizard
from intake.models import EnquiryDraft
from tests.intake.journey import ANSWERS, walk_wizard

pytestmark = pytest.mark.django_db

FAMILY = {"filling_in_for": "family", "relationship": "Mother", "authority": "parental"}
ADULT = {
    "patient_name": "Ada Lovelace-Byron",
    "patient_date_of_birth": "1970-05-04",
    "nhs_number": "",
    "current_provider": "St Thomas' Hospital",
}


def _to_patient_step_as_a_parent(client):
    client.post("/start/", {"urgent": "no"})
    client.post("/start/who/", FAMILY)
    client.post("/start/contact/", ANSWERS["contact"])


def test_typed_answers_survive_an_error_back_and_return(client):
    _to_patient_step_as_a_parent(client)
    refused = client.post("/start/patient/", ADULT)
    assert "Parental responsibility is for a patient under 18" in refused.text

    # Back, as the error says, to choose another answer; then return.
    client.get("/start/contact/")
    client.get("/start/who/")
    client.post("/start/who/", {**FAMILY, "authority": "permission"}, follow=True)
    returned = client.get("/start/patient/")

    assert 'value="Ada Lovelace-Byron"' in returned.text
    assert 'value="1970-05-04"' in returned.text
    assert 'value="St Thomas&#x27; Hospital"' in returned.text
    assert "not finished" in returned.text
    assert "There is a problem" not in returned.text  # errors come with the next Continue
    # Continue now passes with the authority changed, and the typed copy goes.
    assert client.post("/start/patient/", ADULT)["Location"] == "/start/medical/"
    assert EnquiryDraft.objects.get().typed == {}


def test_a_reload_after_an_error_shows_what_was_typed(client):
    _to_patient_step_as_a_parent(client)
    client.post("/start/patient/", ADULT)
    reloaded = client.get("/start/patient/")
    assert 'value="Ada Lovelace-Byron"' in reloaded.text
    assert 'value="1970-05-04"' in reloaded.text


def test_typed_answers_are_shown_over_earlier_answers_but_never_sent(client, run_on_commit):
    walk_wizard(client)
    bad = {**ANSWERS["patient"], "patient_name": "Changed name", "patient_date_of_birth": "x"}
    assert client.post("/start/patient/", bad).status_code == 200
    assert 'value="Changed name"' in client.get("/start/patient/").text

    # The review and the send go back to the unfinished step; the earlier valid answers
    # are not sent in place of what the person was changing.
    assert client.get("/start/check-your-answers/")["Location"] == "/start/patient/"
    with run_on_commit():
        sent = client.post("/start/send/")
    assert sent["Location"] == "/start/patient/"
    assert not Case.objects.exists()
    draft = EnquiryDraft.objects.get()
    assert draft.data["patient"]["patient_name"] == ANSWERS["patient"]["patient_name"]
    with pytest.raises(ValueError, match="patient"):
        wizard.enquiry_from_draft(draft)

    # Fixed, the enquiry goes, and no typed copy is kept beside the case.
    client.post("/start/patient/", {**ANSWERS["patient"], "patient_name": "Changed name"})
    with run_on_commit():
        client.post("/start/send/")
    assert Case.objects.get().patient_name == "Changed name"
    draft.refresh_from_db()
    assert (draft.data, draft.typed) == ({}, {})


def test_typed_answers_keep_no_token_honeypot_or_extra_fields_and_are_cut_to_limits(client):
    client.post("/start/", {"urgent": "no"})
    client.post("/start/who/", ANSWERS["who"])
    client.post("/start/contact/", ANSWERS["contact"])
    client.post("/start/patient/", ANSWERS["patient"])
    huge = "x" * 100_000
    client.post(
        "/start/medical/",
        {
            "csrfmiddlewaretoken": "secret-token",
            "medical_area": huge,
            "diagnosis": huge,
            "treatment_so_far": huge,
            "treatment_plan": huge,
            "worries": huge,
            "anything_else": huge,
        },
    )
    client.post("/start/consent/", {"consent_processing": "on"})

    typed = EnquiryDraft.objects.get().typed
    assert set(typed["medical"]) == {
        "medical_area",
        "diagnosis",
        "treatment_so_far",
        "treatment_plan",
        "worries",
    }
    assert len(typed["medical"]["medical_area"]) == 100
    # Twice the limit: still over it, so Continue says so again, never cut silently.
    assert all(len(typed["medical"][name]) == 10_000 for name in ("diagnosis", "worries"))
    assert typed["consent"] == {"consent_processing": True, "consent_boundaries": False}
    # However much is posted, a draft's typed values stay within the steps' own limits.
    assert len(json.dumps(typed)) < 60_000


def test_typed_values_never_include_a_file_or_the_honeypot():
    class WithFile(forms.Form):
        name = forms.CharField(max_length=3)
        scan = forms.FileField()
        website = forms.CharField(required=False)

    form = WithFile(
        data={"name": "abcdefgh", "website": "http://spam"},
        files={"scan": SimpleUploadedFile("a.pdf", b"%PDF")},
    )
    assert wizard.typed_values(form) == {"name": "abcdef"}


def test_a_parent_of_a_child_gets_through_after_the_typed_copy(client):
    _to_patient_step_as_a_parent(client)
    client.post("/start/patient/", ADULT)
    child = {**ADULT, "patient_date_of_birth": date(date.today().year - 10, 1, 1).isoformat()}
    assert client.post("/start/patient/", child)["Location"] == "/start/medical/"
    assert "patient" not in EnquiryDraft.objects.get().typed
