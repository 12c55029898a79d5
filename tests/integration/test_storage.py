"""A worker with its own disk builds a case file from an S3 bucket the web side shares.

The web side is this test process; the worker is a real ``celery worker`` process with a
different ``MEDCHINA_VAR_DIR``. Both use the same bucket on moto's S3-compatible server
(loopback): nothing on disk is shared between them.
"""

from __future__ import annotations

import io

import pikepdf
import pytest
from django.core.files.base import ContentFile
from kombu import Connection

from cases.models import CaseFile, Record
from cases.records.services import record_add
from tests.factories import patient_case
from tests.integration.conftest import wait_for
from tests.records_support import pdf_bytes
from tests.storage_support import files_under

pytestmark = pytest.mark.integration


@pytest.fixture
def shared_bucket(s3, settings):
    """This process (the web side) on a fresh S3 bucket; the worker gets the same one."""
    bucket = s3.new_bucket()
    backend = s3.backend(bucket)
    settings.STORAGES = {**settings.STORAGES, "private": backend, "default": backend}
    return bucket


@pytest.fixture
def worker_environment(s3, shared_bucket, tmp_path):
    """The worker: same bucket, its own var folder (nothing on disk is shared)."""
    return {**s3.environment(shared_bucket), "MEDCHINA_VAR_DIR": str(tmp_path / "worker-var")}


def test_a_worker_on_another_machine_builds_a_case_file_from_the_bucket(
    s3, shared_bucket, celery_worker_process, broker_url, private_storage, tmp_path
):
    from cases.tasks import generate_case_file, record_check

    case, patient = patient_case()
    added = record_add(
        case=case, file=ContentFile(pdf_bytes(2, marker="worker"), name="letter.pdf"),
        category="lab", uploaded_by=patient.user, run_checks=False,
    )  # fmt: skip
    record = added.record
    case_file = CaseFile.objects.create(case=case, variant="internal", version=1)
    with Connection(broker_url) as connection:
        record_check.apply_async(args=[record.pk], connection=connection)

    def checked() -> bool:
        record.refresh_from_db()
        return not record.is_pending

    assert wait_for(checked), celery_worker_process.log_path.read_text()
    assert record.state == Record.State.READY, record.rejection_reason
    with Connection(broker_url) as connection:
        generate_case_file.apply_async(args=[case_file.pk], connection=connection)

    def rendered() -> bool:
        case_file.refresh_from_db()
        return case_file.state in {CaseFile.State.READY, CaseFile.State.FAILED}

    assert wait_for(rendered, 120), celery_worker_process.log_path.read_text()
    assert case_file.state == CaseFile.State.READY, case_file.last_error
    # Read back here, from the bucket, what the worker wrote there.
    with case_file.file.open("rb") as handle, pikepdf.open(io.BytesIO(handle.read())) as pdf:
        assert len(pdf.pages) == case_file.page_count
    assert case_file.file.name in s3.keys(shared_bucket)
    # Neither side kept a copy on its own disk.
    assert files_under(private_storage) == []
    worker_var = tmp_path / "worker-var"
    assert [name for name in files_under(worker_var) if "scratch" in name] == []
    assert not [name for name in files_under(worker_var) if name.endswith(".pdf")]
