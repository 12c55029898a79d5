import pytest
from django.db import DatabaseError, connection, transaction

from cases.audit import audit_log
from cases.models import AuditEvent
from tests.factories import patient_case, staff_in
from tests.services import require_postgresql


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


@pytest.mark.django_db
def test_postgresql_itself_refuses_to_change_or_remove_an_audit_row():
    """Below Python: raw SQL, and the UPDATE a cascade's SET NULL would send, all fail."""
    require_postgresql()
    case, membership = patient_case()
    event = audit_log(action=AuditEvent.Action.CASE_VIEWED, actor=membership.user, case=case)
    statements = [
        ("UPDATE cases_auditevent SET target = 'tampered' WHERE id = %s", [event.pk]),
        ("DELETE FROM cases_auditevent WHERE id = %s", [event.pk]),
        ("UPDATE cases_auditevent SET case_id = NULL WHERE case_id = %s", [case.pk]),
        ("UPDATE cases_auditevent SET actor_id = NULL WHERE actor_id = %s", [membership.user.pk]),
    ]
    for sql, params in statements:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)

    row = AuditEvent.objects.get(pk=event.pk)
    assert (row.target, row.case_id, row.actor_id) == ("", case.pk, membership.user.pk)


@pytest.mark.django_db
def test_deleting_a_case_or_a_person_leaves_their_audit_trail_as_it_was():
    case, membership = patient_case()
    reference, user_id = case.reference, membership.user.pk
    audit_log(action=AuditEvent.Action.CASE_VIEWED, actor=membership.user, case=case)

    case.delete()
    membership.user.delete()

    event = AuditEvent.objects.get(case_id=reference)
    assert event.actor_id == user_id
