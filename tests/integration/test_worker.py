import pytest
from kombu import Connection

from cases.models import Notification
from cases.records.services import record_add
from cases.tasks import notification_send
from tests.factories import patient_case
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def test_a_real_worker_sends_a_queued_email_through_redis(celery_worker_process, broker_url):
    case, membership = patient_case()
    notification = Notification.objects.create(
        case=case,
        kind=Notification.Kind.CASE_RECEIVED,
        to_email=membership.user.email,
        sign_in_user=membership.user,
        next_path=f"/my/cases/{case.reference}/",
    )

    with Connection(broker_url) as connection:
        notification_send.apply_async(args=[notification.pk], connection=connection)

    def sent() -> bool:
        notification.refresh_from_db()
        return notification.state == Notification.State.SENT

    assert wait_for(sent), celery_worker_process.log_path.read_text()
    assert notification.attempts == 1
    (mail_file,) = celery_worker_process.mail_dir.iterdir()
    mail = mail_file.read_text()
    assert case.reference in mail
    assert case.diagnosis not in mail


def test_the_same_task_delivered_twice_sends_one_email(celery_worker_process, broker_url):
    case, membership = patient_case()
    notification = Notification.objects.create(
        case=case, kind=Notification.Kind.STATUS_CHANGED, to_email=membership.user.email
    )
    with Connection(broker_url) as connection:
        for _ in range(2):
            notification_send.apply_async(args=[notification.pk], connection=connection)

    def both_handled() -> bool:
        return celery_worker_process.log_path.read_text().count("succeeded in") >= 2

    assert wait_for(both_handled), celery_worker_process.log_path.read_text()
    notification.refresh_from_db()
    assert notification.state == Notification.State.SENT
    assert notification.attempts == 1
    assert len(list(celery_worker_process.mail_dir.iterdir())) == 1


def test_a_hostile_file_does_not_stop_the_worker_checking_the_next(
    celery_worker_process, broker_url
):
    from django.core.files.base import ContentFile

    from cases.models import Record
    from cases.tasks import record_check
    from tests.records_support import pdf_bytes

    case, _membership = patient_case()
    bomb = b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(1)</script></html>" * 50
    hostile = record_add(
        case=case, file=ContentFile(bomb, name="x.png"), category="other", run_checks=False
    ).record
    good = record_add(
        case=case, file=ContentFile(pdf_bytes(2), name="ok.pdf"), category="lab", run_checks=False
    ).record
    with Connection(broker_url) as connection:
        for record in (hostile, good):
            record_check.apply_async(args=[record.pk], connection=connection)

    def both_done() -> bool:
        states = set(Record.objects.values_list("state", flat=True))
        return states <= {Record.State.READY, Record.State.REJECTED} and len(states) == 2

    assert wait_for(both_done), celery_worker_process.log_path.read_text()
    hostile.refresh_from_db()
    good.refresh_from_db()
    assert hostile.state == Record.State.REJECTED and "picture" in hostile.rejection_reason
    assert good.state == Record.State.READY and good.page_count == 2
    assert celery_worker_process.poll() is None  # still running


def test_the_heavy_queue_renders_a_case_file(celery_worker_process, broker_url):
    from cases.models import CaseFile
    from cases.tasks import generate_case_file

    case, _ = patient_case()
    case_file = CaseFile.objects.create(case=case, variant="internal", version=1)
    with Connection(broker_url) as connection:
        generate_case_file.apply_async(args=[case_file.pk], connection=connection)

    def ready() -> bool:
        case_file.refresh_from_db()
        return case_file.state in {CaseFile.State.READY, CaseFile.State.FAILED}

    assert wait_for(ready, 60), celery_worker_process.log_path.read_text()
    assert case_file.state == CaseFile.State.READY, case_file.last_error
    assert case_file.page_count >= 4 and len(case_file.sha256) == 64
