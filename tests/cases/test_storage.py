"""Private files through the storage API, on the local folder and on an S3 bucket.

Each test runs twice (``private_backend``): once on the filesystem default and once on
moto's S3-compatible server on loopback, with the backend settings.py builds for
``MEDCHINA_PRIVATE_STORAGE=s3``. tests/integration/test_storage.py runs a real worker
against the same kind of bucket.
"""

from __future__ import annotations

import io

import pikepdf
import pytest
from django.core.files.base import ContentFile

from cases.casefile.services import case_file_request
from cases.models import AuditEvent, CaseFile, Record
from cases.records.processing import record_process
from cases.records.services import record_add
from tests.factories import StaffFactory, patient_case, staff_in
from tests.records_support import jpeg_bytes, pdf_bytes, upload
from tests.storage_support import files_under


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.django_db
def test_an_upload_is_checked_stored_and_served_only_through_the_audited_view(
    client, private_backend, run_on_commit
):
    case, patient = patient_case()
    client.force_login(patient.user)
    with run_on_commit():
        response = client.post(
            f"/my/cases/{case.reference}/records/",
            {
                "category": "lab",
                "document_date": "",
                "description": "",
                "files": [upload("bloods.pdf", pdf_bytes(2, marker="bloods"))],
            },
        )
    assert response.status_code == 200
    record = Record.objects.get(case=case)
    assert record.state == Record.State.READY, record.rejection_reason
    assert record.page_count == 2

    stored = private_backend.stored()
    prefix = f"records/{record.public_id}/"
    # Beside the record's own files: the page pictures proposed for its partner copy.
    copy_prefix = f"partner-copies/{record.partner_copy.public_id}/"
    assert {record.original.name, record.derivative.name, record.thumbnail.name} <= set(stored)
    assert all(name.startswith((prefix, copy_prefix)) for name in stored)
    if private_backend.s3 is not None:
        # Nothing landed on this machine's disk; the bucket holds it, encrypted, private.
        assert files_under(private_backend.folder) == []
        s3 = private_backend.s3.client()
        head = s3.head_object(Bucket=private_backend.bucket, Key=record.derivative.name)
        assert head["ServerSideEncryption"] == "AES256"
        grants = s3.get_object_acl(Bucket=private_backend.bucket, Key=record.derivative.name)
        assert [g["Permission"] for g in grants["Grants"]] == ["FULL_CONTROL"]

    download = client.get(f"/my/cases/{case.reference}/records/{record.public_id}/file/")
    assert download.status_code == 200
    with pikepdf.open(io.BytesIO(_body(download))) as pdf:
        assert len(pdf.pages) == 2
    assert download["Cache-Control"] == "no-store, private"
    assert "amazonaws" not in str(download.headers) and "X-Amz" not in str(download.headers)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.RECORD_DOWNLOADED, target=str(record.public_id)
    ).exists()

    stranger = StaffFactory()
    client.force_login(stranger)
    refused = client.get(f"/my/cases/{case.reference}/records/{record.public_id}/file/")
    assert refused.status_code == 404


@pytest.mark.django_db
def test_a_refused_file_sent_again_is_a_new_attempt(private_backend, run_on_commit):
    case, patient = patient_case()
    content = b"\x89PNG\r\n\x1a\n" + b"not really a picture" * 20
    with run_on_commit():
        first = record_add(
            case=case, file=ContentFile(content, name="scan.png"), category="other",
            uploaded_by=patient.user,
        ).record  # fmt: skip
    first.refresh_from_db()
    assert first.state == Record.State.REJECTED
    assert private_backend.stored() == []  # a refused file is not kept

    again = record_add(
        case=case, file=ContentFile(content, name="scan.png"), category="other",
        uploaded_by=patient.user, run_checks=False,
    ).record  # fmt: skip

    assert again.pk != first.pk
    assert private_backend.stored() == [again.original.name]


@pytest.mark.django_db
def test_a_case_file_is_rendered_from_stored_records_and_downloaded_by_staff(
    private_backend, run_on_commit, staff_login
):
    case, patient = patient_case()
    for number, content in enumerate((pdf_bytes(3, marker="letter"), jpeg_bytes((800, 600)))):
        added = record_add(
            case=case, file=ContentFile(content, name=f"record-{number}"), category="lab",
            uploaded_by=patient.user, run_checks=False,
        )  # fmt: skip
        record_process(record_id=added.record.pk)
    coordinator = staff_in("coordinator")
    with run_on_commit():
        case_file = case_file_request(case=case, variant="internal", by=coordinator)
    case_file.refresh_from_db()

    assert case_file.state == CaseFile.State.READY, case_file.last_error
    assert case_file.file.name == (f"case-files/{case_file.public_id}/case-file-internal-v1.pdf")
    assert case_file.file.name in private_backend.stored()
    response = staff_login(coordinator).get(
        f"/admin/cases/case/{case.reference}/case-files/{case_file.public_id}/"
    )
    assert response.status_code == 200
    with pikepdf.open(io.BytesIO(_body(response))) as pdf:
        assert len(pdf.pages) == case_file.page_count >= 4


@pytest.mark.django_db
def test_a_page_image_gone_from_storage_is_made_again_and_kept(private_backend, tmp_path):
    from cases.casefile.render import case_file_build

    case, patient = patient_case()
    added = record_add(
        case=case, file=ContentFile(jpeg_bytes((2000, 1500)), name="photo.jpg"),
        category="lab", uploaded_by=patient.user, run_checks=False,
    )  # fmt: skip
    record_process(record_id=added.record.pk)
    photo = Record.objects.get(pk=added.record.pk)
    assert photo.page_image.name in private_backend.stored()
    photo.page_image.storage.delete(photo.page_image.name)

    built = case_file_build(case, "internal", tmp_path / "internal.pdf")

    assert built.excluded == []
    photo.refresh_from_db()
    assert photo.page_image.name in private_backend.stored()
