import time

import pytest
from kombu import Connection

from cases.models import Notification
from cases.tasks import notification_send
from tests.factories import patient_case

pytestmark = pytest.mark.integration


def _wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


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

    assert _wait_for(sent), celery_worker_process.log_path.read_text()
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

    assert _wait_for(both_handled), celery_worker_process.log_path.read_text()
    notification.refresh_from_db()
    assert notification.state == Notification.State.SENT
    assert notification.attempts == 1
    assert len(list(celery_worker_process.mail_dir.iterdir())) == 1
