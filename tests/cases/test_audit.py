import pytest

from cases.audit import audit_log
from cases.models import AuditEvent
from tests.factories import patient_case, staff_in


@pytest.mark.django_db
def test_audit_events_cannot_be_changed_or_deleted():
    case, membership = patient_case()
    event = audit_log(action=AuditEvent.Action.CASE_VIEWED, actor=membership.user, case=case)

    event.target = "tampered"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(target="tampered")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).target == ""


@pytest.mark.django_db
def test_the_admin_shows_audit_events_read_only(staff_login):
    admin_client = staff_login(staff_in("manager"))
    case, membership = patient_case()
    event = audit_log(action=AuditEvent.Action.CASE_VIEWED, actor=membership.user, case=case)

    listing = admin_client.get("/admin/cases/auditevent/")
    assert listing.status_code == 200
    assert case.reference in listing.text
    assert admin_client.get(f"/admin/cases/auditevent/{event.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/cases/auditevent/add/").status_code == 403
    admin_client.post(f"/admin/cases/auditevent/{event.pk}/change/", {"target": "x"})
    assert AuditEvent.objects.get(pk=event.pk).target == ""
