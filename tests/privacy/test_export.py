"""Download my data: one job however often it is asked for; everything in one zip."""

import json
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases.models import AuditEvent, DataExport
from cases.privacy import export
from tests.privacy.support import IDENTIFIERS, files_in, full_case

pytestmark = pytest.mark.django_db


def test_asking_twice_makes_one_job(run_on_commit):
    case, membership = full_case()
    with run_on_commit() as callbacks:
        first = export.data_export_request(case=case, by=membership.user)
        second = export.data_export_request(case=case, by=membership.user)
    assert first.pk == second.pk
    assert DataExport.objects.filter(case=case).count() == 1
    assert AuditEvent.objects.filter(case=case, action="export.requested").count() == 1
    first.refresh_from_db()
    assert first.state == DataExport.State.READY
    # Once ready it is offered, not made again.
    assert export.data_export_request(case=case, by=membership.user).pk == first.pk
    del callbacks


def test_the_zip_holds_the_enquiry_records_messages_and_audit(run_on_commit, tmp_path):
    case, membership = full_case()
    with run_on_commit():
        made = export.data_export_request(case=case, by=membership.user)
    made.refresh_from_db()
    assert made.expires_at - made.finished_at == timedelta(days=7)
    path = tmp_path / "data.zip"
    with made.file.open("rb") as source:
        path.write_bytes(source.read())
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        enquiry = json.loads(archive.read("enquiry.json"))
        audit = json.loads(archive.read("audit-trail.json"))
        assert archive.read("enquiry.pdf").startswith(b"%PDF")
        originals = [n for n in names if n.startswith("records/")]
    assert enquiry["nhs_number"] == IDENTIFIERS["nhs_number"]
    assert enquiry["consents"][0]["text_version"]
    assert len(originals) == 2
    assert {"README.txt", "records.json", "messages.json"} <= set(names)
    assert any(event["action"] == "Record uploaded" for event in audit)
    # The e-mail says only that it is ready.
    ready = [m for m in mail.outbox if "data" in m.body and case.reference in m.body]
    assert ready and IDENTIFIERS["diagnosis"] not in ready[0].body


def test_an_expired_download_is_erased_by_retention(run_on_commit, private_storage):
    case, membership = full_case()
    with run_on_commit():
        made = export.data_export_request(case=case, by=membership.user)
    made.refresh_from_db()
    name = made.file.name
    DataExport.objects.filter(pk=made.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    from cases.privacy import retention

    with run_on_commit():
        retention.retention_apply()
    made.refresh_from_db()
    assert made.state == DataExport.State.EXPIRED
    assert not made.file
    assert name not in str(files_in(private_storage))
    assert export.data_export_current(case) is None


def test_the_command_writes_the_same_zip(tmp_path, capsys):
    case, _ = full_case()
    output = tmp_path / "out.zip"
    call_command("export_case", case.reference, "--output", str(output))
    with zipfile.ZipFile(output) as archive:
        assert "enquiry.json" in archive.namelist()
    assert "Wrote" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already exists"):
        call_command("export_case", case.reference, "--output", str(output))
    with pytest.raises(CommandError, match="No case"):
        call_command("export_case", "MC-0000-0000", "--output", str(tmp_path / "x.zip"))


def test_a_download_whose_worker_died_is_built_again_by_the_reconciler(run_on_commit):
    from cases.reconcile import reconcile

    case, membership = full_case()
    lost = DataExport.objects.create(
        case=case,
        requested_by=membership.user,
        state=DataExport.State.BUILDING,
        attempts=1,
        lease_expires_at=timezone.now() - timedelta(seconds=5),
    )
    with run_on_commit():
        counts = reconcile()
    lost.refresh_from_db()
    assert counts["requeued"] == 1
    assert lost.state == DataExport.State.READY and lost.file


def test_a_download_that_keeps_stopping_is_given_up_visibly(run_on_commit, client):
    from cases.reconcile import reconcile

    case, membership = full_case()
    stuck = DataExport.objects.create(
        case=case,
        requested_by=membership.user,
        state=DataExport.State.BUILDING,
        attempts=3,
        lease_expires_at=timezone.now() - timedelta(seconds=5),
    )
    with run_on_commit():
        reconcile()
    stuck.refresh_from_db()
    assert stuck.state == DataExport.State.FAILED
    # The patient can ask again.
    client.force_login(membership.user)
    assert "Prepare my download" in client.get(f"/my/cases/{case.reference}/data/").text
