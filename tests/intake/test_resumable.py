"""Resumable uploads through the real endpoints: start, chunks, resume, refusals."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.test import Client

from cases.models import AuditEvent, Membership, Record, ResumableUpload
from cases.records import resumable
from tests.factories import MembershipFactory, UserFactory, patient_case
from tests.records_support import jpeg_bytes, pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(client):
    case, membership = patient_case()
    client.force_login(membership.user)
    return case, membership


def _start(client, case, content: bytes, name: str = "scan.pdf", **fields):
    data = {
        "name": name,
        "size": str(len(content)),
        "category": "imaging_report",
        "document_date": "",
        "description": "",
        **fields,
    }
    return client.post(
        f"/my/cases/{case.reference}/records/uploads/", data, HTTP_ACCEPT="application/json"
    )


def _patch(client, url: str, chunk: bytes, offset: int, **extra):
    return client.generic(
        "PATCH",
        url,
        chunk,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
        **extra,
    )


class DroppedConnection(io.RawIOBase):
    """A request body whose sender vanishes after ``keep`` bytes, as a socket does."""

    def __init__(self, data: bytes, keep: int) -> None:
        self._data = data[:keep]
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        if self._at >= len(self._data):
            raise ConnectionResetError("client went away")
        piece = self._data[self._at : self._at + (size if size >= 0 else len(self._data))]
        self._at += len(piece)
        return piece


def test_a_file_sent_in_chunks_becomes_a_checked_record(client, patient, run_on_commit):
    case, membership = patient
    content = pdf_bytes(3, marker="chunked")
    started = _start(client, case, content, description="MRI report")
    assert started.status_code == 201
    url = started.json()["url"]
    third = len(content) // 3 + 1
    with run_on_commit():
        for offset in range(0, len(content), third):
            answer = _patch(client, url, content[offset : offset + third], offset)
            assert answer.status_code == 200
    body = answer.json()
    assert body["offset"] == len(content)
    assert body["results"][0]["ok"] is True
    record = Record.objects.get(case=case)
    assert record.sha256 == hashlib.sha256(content).hexdigest()
    assert record.size == len(content)
    assert record.state == Record.State.READY and record.page_count == 3
    assert record.uploaded_by == membership.user and record.description == "MRI report"
    assert record.original.read() == content
    assert AuditEvent.objects.filter(case=case, action="record.uploaded").count() == 1
    assert not ResumableUpload.objects.exists()
    assert not list((resumable._folder()).iterdir())


def test_an_upload_resumes_after_a_chunk_is_cut_off(client, patient):
    case, _ = patient
    content = jpeg_bytes((400, 300))
    url = _start(client, case, content, name="photo.jpg").json()["url"]
    cut = _patch(
        client,
        url,
        b"",
        0,
        CONTENT_LENGTH=str(len(content)),
        **{"wsgi.input": DroppedConnection(content, keep=100)},
    )
    assert cut.status_code == 200 and cut.json()["offset"] == 100
    # The client asks how much arrived and sends the rest from there.
    assert client.get(url).json() == {"offset": 100, "size": len(content)}
    done = _patch(client, url, content[100:], 100)
    assert done.json()["results"][0]["ok"] is True
    assert Record.objects.get().sha256 == hashlib.sha256(content).hexdigest()


def test_a_chunk_at_the_wrong_offset_is_refused_with_the_right_one(client, patient):
    case, _ = patient
    content = pdf_bytes(1, marker="offset")
    url = _start(client, case, content).json()["url"]
    _patch(client, url, content[:50], 0)
    wrong = _patch(client, url, content[10:60], 10)
    assert wrong.status_code == 409
    assert wrong.json()["offset"] == 50
    assert client.get(url).json()["offset"] == 50
    assert not Record.objects.exists()


def test_a_file_over_the_size_limit_cannot_start(client, patient, settings):
    case, _ = patient
    settings.MEDCHINA_MAX_RECORD_SIZE = 1000
    refused = _start(client, case, b"x" * 1001, name="huge.pdf")
    assert refused.status_code == 413
    assert "huge.pdf is 1001 bytes, over the limit of 1000 bytes" in refused.json()[
        "errors"
    ].replace("\xa0", " ")
    assert not ResumableUpload.objects.exists()


def test_bytes_beyond_the_declared_size_are_refused(client, patient):
    case, _ = patient
    content = pdf_bytes(1, marker="declared")
    url = _start(client, case, content).json()["url"]
    refused = _patch(client, url, content + b"extra", 0)
    assert refused.status_code == 413
    assert client.get(url).json()["offset"] == 0


def test_a_chunk_over_eight_mebibytes_is_refused_before_reading(client, patient):
    case, _ = patient
    content = pdf_bytes(1, marker="big chunk")
    url = _start(client, case, content).json()["url"]
    refused = _patch(client, url, content, 0, CONTENT_LENGTH=str(resumable.CHUNK_MAX + 1))
    assert refused.status_code == 413
    assert "at most 8.0 MB" in refused.json()["errors"].replace("\xa0", " ")


def test_uploads_in_progress_count_against_the_case_quota(client, patient, settings):
    case, _ = patient
    settings.MEDCHINA_CASE_QUOTA = 1500
    assert _start(client, case, b"a" * 1000, name="first.pdf").status_code == 201
    second = _start(client, case, b"b" * 1000, name="second.pdf")
    assert second.status_code == 413
    assert "would take this case over its limit" in second.json()["errors"]


def test_a_duplicate_sent_in_chunks_is_reported_not_stored(client, patient, run_on_commit):
    case, _ = patient
    content = pdf_bytes(1, marker="twice")
    with run_on_commit():
        for name in ("a.pdf", "b.pdf"):
            url = _start(client, case, content, name=name).json()["url"]
            last = _patch(client, url, content, 0).json()
    assert Record.objects.count() == 1
    assert last["results"][0]["duplicate"] is True
    assert "b.pdf was already uploaded on" in last["results"][0]["message"]


def test_nobody_else_can_continue_or_read_an_upload(client, patient):
    case, _ = patient
    content = pdf_bytes(1, marker="mine")
    url = _start(client, case, content).json()["url"]
    helper = MembershipFactory(case=case, role=Membership.Role.CONTRIBUTOR)
    _stranger_case, stranger = patient_case()
    for user in (helper.user, stranger.user, UserFactory()):
        other = Client()
        other.force_login(user)
        assert other.get(url).status_code == 404
        assert _patch(other, url, content, 0).status_code == 404
        assert other.delete(url).status_code == 404
    assert Client().get(url).status_code == 302  # signed out: to the sign-in page
    assert ResumableUpload.objects.get().received == 0


def test_a_viewer_cannot_start_an_upload(client):
    case, _ = patient_case()
    viewer = MembershipFactory(case=case, role=Membership.Role.VIEWER)
    client.force_login(viewer.user)
    assert _start(client, case, b"x" * 10).status_code == 404


def test_chunks_need_the_csrf_token(patient):
    case, membership = patient
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(membership.user)
    assert _start(strict, case, b"x" * 10).status_code == 403
    page = strict.get(f"/my/cases/{case.reference}/records/")
    token = page.context["csrf_token"]
    started = strict.post(
        f"/my/cases/{case.reference}/records/uploads/",
        {"name": "a.pdf", "size": "10", "category": "lab"},
        HTTP_X_CSRFTOKEN=str(token),
    )
    assert started.status_code == 201
    url = started.json()["url"]
    assert _patch(strict, url, b"x" * 10, 0).status_code == 403
    assert ResumableUpload.objects.get().received == 0


def test_a_cancelled_upload_leaves_nothing_behind(client, patient):
    case, _ = patient
    content = pdf_bytes(1, marker="cancel")
    url = _start(client, case, content).json()["url"]
    _patch(client, url, content[:20], 0)
    assert client.delete(url).status_code == 204
    assert not ResumableUpload.objects.exists()
    assert not list(resumable._folder().iterdir())
    assert client.get(url).status_code == 404


def test_the_page_offers_the_chunked_uploader(client, patient):
    case, _ = patient
    page = client.get(f"/my/cases/{case.reference}/records/")
    assert f'data-upload-url="/my/cases/{case.reference}/records/uploads/"' in page.text
