import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from cases.domain.workflow import Status
from cases.models import AuditEvent, Membership, Record
from cases.records.processing import MAX_CHECK_ATTEMPTS, record_process
from cases.records.selectors import case_checklist
from cases.records.services import record_add
from cases.transitions import case_withdraw
from tests.factories import MembershipFactory, StaffFactory, UserFactory, patient_case
from tests.records_support import jpeg_bytes, pdf_bytes, upload

pytestmark = pytest.mark.django_db


def _post(client, case, files, **fields):
    data = {"category": "diagnosis_letter", "document_date": "", "description": "", **fields}
    data["files"] = files
    return client.post(f"/my/cases/{case.reference}/records/", data)


@pytest.fixture
def patient(client):
    case, membership = patient_case()
    client.force_login(membership.user)
    return case, membership


def test_the_page_shows_the_limits_before_any_upload(client, patient):
    case, _ = patient
    page = client.get(f"/my/cases/{case.reference}/records/")
    assert page.status_code == 200
    text = page.text.replace("\xa0", " ")
    assert "200.0 MB a file" in text
    assert "2.0 GB" in text
    assert "HEIC (iPhone photos)" in page.text
    assert "No records yet" in page.text


def test_several_files_upload_at_once_and_are_checked(client, patient, run_on_commit):
    case, membership = patient
    with run_on_commit():
        response = _post(
            client,
            case,
            [upload("letter.pdf", pdf_bytes(2)), upload("photo.jpg", jpeg_bytes())],
            document_date="2026-03-03",
            description="Clinic letter",
        )
    assert response.status_code == 200
    assert "letter.pdf was received" in response.text
    stored = Record.objects.filter(case=case)
    assert stored.count() == 2
    assert set(stored.values_list("state", flat=True)) == {Record.State.READY}
    pdf = stored.get(original_name="letter.pdf")
    assert pdf.page_count == 2
    assert pdf.uploaded_by == membership.user
    assert pdf.original.name == f"records/{pdf.public_id}/original"
    assert str(pdf.document_date) == "2026-03-03"
    assert AuditEvent.objects.filter(case=case, action="record.uploaded").count() == 2


def test_a_ready_record_downloads_as_an_attachment_and_is_audited(client, patient, run_on_commit):
    case, _membership = patient
    with run_on_commit():
        _post(client, case, [upload("scan.jpg", jpeg_bytes())])
    record = Record.objects.get()
    response = client.get(f"/my/cases/{case.reference}/records/{record.public_id}/file/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    b"".join(response.streaming_content)
    thumb = client.get(f"/my/cases/{case.reference}/records/{record.public_id}/thumbnail/")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    actions = list(AuditEvent.objects.filter(case=case).values_list("action", flat=True))
    assert "record.downloaded" in actions and "record.viewed" in actions


def test_the_json_answer_serves_the_progress_uploader(client, patient, run_on_commit):
    case, _ = patient
    with run_on_commit():
        response = client.post(
            f"/my/cases/{case.reference}/records/",
            {"category": "lab", "files": [upload("bloods.pdf", pdf_bytes())]},
            HTTP_ACCEPT="application/json",
        )
    body = response.json()
    assert body["results"][0]["ok"] is True
    assert body["results"][0]["record"]["state"] == "received"
    status = client.get(f"/my/cases/{case.reference}/records/status/").json()
    assert status["records"][0]["state"] == "ready"


def test_identical_content_is_reported_not_stored_twice(client, patient, run_on_commit):
    case, _ = patient
    content = pdf_bytes(marker="same")
    with run_on_commit():
        _post(client, case, [upload("a.pdf", content)])
        again = _post(client, case, [upload("renamed.pdf", content)])
    assert Record.objects.count() == 1
    assert "renamed.pdf was already uploaded on" in again.text


def test_a_file_over_the_limit_gets_a_clear_message(client, patient, settings):
    case, _ = patient
    settings.MEDCHINA_MAX_RECORD_SIZE = 1000
    response = _post(client, case, [upload("huge.pdf", pdf_bytes() + b"0" * 2000)])
    assert response.status_code in {200, 400}
    assert "huge.pdf is over the limit of 1000 bytes a file" in response.text.replace("\xa0", " ")
    assert not Record.objects.exists()


def test_the_case_quota_is_enforced(client, patient, settings, run_on_commit):
    case, _ = patient
    first = pdf_bytes(marker="first")
    settings.MEDCHINA_CASE_QUOTA = len(first) + 10
    with run_on_commit():
        _post(client, case, [upload("first.pdf", first)])
        response = _post(client, case, [upload("second.pdf", pdf_bytes(marker="second"))])
    assert "would take this case over its limit" in response.text
    assert Record.objects.count() == 1


def test_too_many_files_in_one_request_is_refused_clearly(client, patient, settings):
    case, _ = patient
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    files = [upload(f"f{n}.pdf", pdf_bytes(marker=str(n))) for n in range(4)]
    response = _post(client, case, files)
    assert response.status_code == 400
    assert "at most 3 at a time" in response.text
    assert not Record.objects.exists()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../x.pdf", "x.pdf"),
        ("..\\x.pdf", "x.pdf"),
        ("evil\u202egpj.pdf", "evilgpj.pdf"),
        ("\u00e9" * 300 + ".pdf", None),
        ("<script>alert(1)</script>.pdf", "script>.pdf"),  # "/" is a folder separator
    ],
)
def test_hostile_file_names_are_only_escaped_metadata(client, patient, run_on_commit, name, shown):
    case, _ = patient
    with run_on_commit():
        page = _post(client, case, [upload(name, pdf_bytes(marker=name))])
    record = Record.objects.get()
    assert record.original.name == f"records/{record.public_id}/original"
    if shown is not None:
        assert record.original_name == shown
    else:
        assert len(record.original_name) <= 255 and record.original_name.endswith(".pdf")
    assert "<script>alert(1)</script>" not in page.text


def test_an_interrupted_upload_stores_nothing_and_loses_nothing(client, patient, run_on_commit):
    case, _ = patient
    with run_on_commit():
        _post(client, case, [upload("kept.pdf", pdf_bytes(marker="kept"))])
    boundary = "BoUnDaRy"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\nlab\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="half.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode() + pdf_bytes()[:200]  # the connection drops here: no closing boundary
    response = client.generic(
        "POST",
        f"/my/cases/{case.reference}/records/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code in {200, 400}
    assert list(Record.objects.values_list("original_name", flat=True)) == ["kept.pdf"]


def test_an_upload_answers_a_records_request(client, patient, run_on_commit):
    case, _ = patient
    from cases.transitions import case_transition

    coordinator = StaffFactory()
    case_transition(case=case, to=Status.TRIAGE, actor=coordinator)
    case_transition(case=case, to=Status.DRAFTING, actor=coordinator)
    case_transition(case=case, to=Status.AWAITING_RECORDS, actor=coordinator)
    with run_on_commit():
        _post(client, case, [upload("more.pdf", pdf_bytes(marker="more"))])
    case.refresh_from_db()
    assert case.status == Status.DRAFTING


def test_the_checklist_follows_the_records(client, patient, run_on_commit):
    case, _ = patient  # cancer: pathology, imaging report, treatment history, letter
    before = {item.category: item.present for item in case_checklist(case)}
    assert before == {
        "diagnosis_letter": False,
        "imaging_report": False,
        "pathology": False,
        "treatment_history": False,
    }
    with run_on_commit():
        _post(client, case, [upload("path.pdf", pdf_bytes(marker="p"))], category="pathology")
    after = {item.category: item.present for item in case_checklist(case)}
    assert after["pathology"] is True
    page = client.get(f"/my/cases/{case.reference}/")
    assert 'Pathology or biopsy report — <span class="checklist-state">uploaded' in page.text


@pytest.fixture
def two_records(run_on_commit):
    case, patient_membership = patient_case()
    contributor = MembershipFactory(
        case=case, role=Membership.Role.CONTRIBUTOR, can_view_all_records=False
    )
    with run_on_commit():
        mine = record_add(
            case=case,
            file=ContentFile(pdf_bytes(marker="patient"), name="patient.pdf"),
            category="lab",
            uploaded_by=patient_membership.user,
        ).record
        theirs = record_add(
            case=case,
            file=ContentFile(pdf_bytes(marker="family"), name="family.pdf"),
            category="lab",
            uploaded_by=contributor.user,
        ).record
    return case, patient_membership, contributor, mine, theirs


def test_a_contributor_sees_only_their_own_uploads(client, two_records):
    case, _, contributor, mine, _theirs = two_records
    client.force_login(contributor.user)
    page = client.get(f"/my/cases/{case.reference}/records/")
    assert "family.pdf" in page.text and "patient.pdf" not in page.text
    url = f"/my/cases/{case.reference}/records/{mine.public_id}/file/"
    assert client.get(url).status_code == 404
    contributor.can_view_all_records = True
    contributor.save()
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("who", ["other case member", "anonymous", "revoked", "staff"])
def test_records_are_404_to_everyone_else(client, two_records, who):
    case, _, contributor, mine, _ = two_records
    if who == "other case member":
        _, other = patient_case()
        client.force_login(other.user)
    elif who == "revoked":
        from django.utils import timezone

        contributor.revoked_at = timezone.now()
        contributor.can_view_all_records = True
        contributor.save()
        client.force_login(contributor.user)
    elif who == "staff":
        client.force_login(UserFactory(is_staff=True))
    for kind in ("file", "thumbnail"):
        response = client.get(f"/my/cases/{case.reference}/records/{mine.public_id}/{kind}/")
        assert response.status_code == 404, (who, kind)


def test_a_viewer_cannot_upload(client, two_records):
    case, *_ = two_records
    viewer = MembershipFactory(case=case, role=Membership.Role.VIEWER)
    client.force_login(viewer.user)
    response = _post(client, case, [upload("v.pdf", pdf_bytes(marker="viewer"))])
    assert response.status_code == 404
    assert Record.objects.count() == 2


def test_import_record_runs_the_same_checks(tmp_path, capsys):
    case, _ = patient_case()
    good = tmp_path / "posted letter.pdf"
    good.write_bytes(pdf_bytes(3))
    call_command("import_record", case.reference, str(good), "--category", "referral")
    assert "3 pages" in capsys.readouterr().out
    record = Record.objects.get()
    assert record.state == Record.State.READY and record.category == "referral"

    bad = tmp_path / "program.pdf"
    bad.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    with pytest.raises(CommandError, match="Rejected"):
        call_command("import_record", case.reference, str(bad), "--category", "other")
    assert Record.objects.get(original_name="program.pdf").state == Record.State.REJECTED


def test_photos_of_one_letter_become_one_pdf_record(client, patient, run_on_commit):
    case, _ = patient
    photos = [upload(f"page{n}.jpg", jpeg_bytes(colour=c)) for n, c in enumerate(["red", "blue"])]
    with run_on_commit():
        page = _post(client, case, photos, combine="on", category="referral")
    record = Record.objects.get()
    assert record.state == Record.State.READY
    assert record.page_count == 2
    assert record.original_name == "page0 and 1 more (combined).pdf"
    assert "was received" in page.text


def test_a_damaged_photo_among_the_pages_is_named(client, patient, run_on_commit):
    case, _ = patient
    photos = [upload("a.jpg", jpeg_bytes()), upload("b.jpg", jpeg_bytes()[:300])]
    with run_on_commit():
        _post(client, case, photos, combine="on")
    # Combining happens in the worker now; the refusal is on the record, where the
    # records page (and its polling) shows it.
    record = Record.objects.get()
    assert record.state == Record.State.REJECTED
    assert "Photo 2 of 2" in record.rejection_reason
    assert "Photo 2 of 2" in client.get(f"/my/cases/{case.reference}/records/").text


def test_combining_photos_happens_in_the_worker_not_the_request(
    client, patient, django_capture_on_commit_callbacks
):
    """Issue 10: two 49 MP photos took 3.0 s to decode inside the web request."""
    case, _ = patient
    photos = [upload(f"p{n}.jpg", jpeg_bytes(colour=c)) for n, c in enumerate(["red", "blue"])]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = _post(client, case, photos, combine="on")
    assert "was received" in page.text
    record = Record.objects.get()
    # Only packed so far: no PDF made, no image decoded, in the request.
    assert record.state == Record.State.RECEIVED and record.page_count is None
    assert not record.original.read(5).startswith(b"%PDF")
    for callback in callbacks:
        callback()
    record.refresh_from_db()
    assert record.state == Record.State.READY and record.page_count == 2
    assert record.original.open("rb").read(5) == b"%PDF-"


def test_a_refused_file_can_be_sent_again(client, patient, run_on_commit):
    case, _ = patient
    content = b"MZ" + b"\x00" * 500  # refused: a Windows program
    with run_on_commit():
        _post(client, case, [upload("first.pdf", content)])
    assert Record.objects.get().state == Record.State.REJECTED
    with run_on_commit():
        page = _post(client, case, [upload("again.pdf", content)])
    assert "already uploaded" not in page.text
    assert Record.objects.get().original_name == "again.pdf"


def test_a_file_that_keeps_stopping_the_checker_is_given_up_on(patient, settings):
    case, _membership = patient
    record = record_add(
        case=case,
        file=ContentFile(pdf_bytes(marker="stuck"), name="stuck.pdf"),
        category="lab",
        run_checks=False,
    ).record
    Record.objects.filter(pk=record.pk).update(
        state=Record.State.CHECKING, attempts=MAX_CHECK_ATTEMPTS
    )
    record_process(record_id=record.pk)
    record.refresh_from_db()
    assert record.state == Record.State.REJECTED
    assert "could not finish checking" in record.rejection_reason


def test_a_helper_without_the_grant_sees_no_health_content(client, two_records):
    case, _, contributor, *_ = two_records
    case.questions = ["Is surgery possible?"]
    case.save()
    client.force_login(contributor.user)
    page = client.get(f"/my/cases/{case.reference}/")
    assert "Is surgery possible?" not in page.text
    contributor.can_view_all_records = True
    contributor.save()
    assert "Is surgery possible?" in client.get(f"/my/cases/{case.reference}/").text


def test_a_withdrawn_case_takes_no_more_uploads(client, patient):
    case, membership = patient
    case_withdraw(case=case, user=membership.user)
    assert "Upload records" not in client.get(f"/my/cases/{case.reference}/records/").text
    response = _post(client, case, [upload("late.pdf", pdf_bytes(marker="late"))])
    assert response.status_code == 404
    assert not Record.objects.exists()


def test_a_helper_is_not_told_about_someone_elses_upload(client, two_records, run_on_commit):
    case, _, contributor, _mine, _ = two_records
    client.force_login(contributor.user)
    same_as_patients = pdf_bytes(marker="patient")  # the patient's file, byte for byte
    with run_on_commit():
        page = _post(client, case, [upload("copy.pdf", same_as_patients)])
    assert "copy.pdf is already on this case" in page.text
    assert "uploaded on" not in page.text
