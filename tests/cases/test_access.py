"""The access rules asked directly, without HTTP: each answer for each kind of person."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.http import Http404

from cases import access
from cases.models import Membership
from cases.records.services import record_add
from cases.transitions import case_withdraw
from tests.factories import MembershipFactory, StaffFactory, UserFactory, patient_case, staff_in
from tests.records_support import pdf_bytes

pytestmark = pytest.mark.django_db


def _helper(case, can_view_all_records: bool = False) -> Membership:
    return MembershipFactory(
        case=case, role=Membership.Role.CONTRIBUTOR, can_view_all_records=can_view_all_records
    )


def test_a_stranger_and_an_anonymous_visitor_get_the_same_404():
    case, _patient = patient_case()

    for person in (UserFactory(), AnonymousUser()):
        with pytest.raises(Http404):
            access.case_for_member(person, case.reference)


def test_a_revoked_helper_is_a_stranger():
    case, _patient = patient_case()
    helper = _helper(case)
    helper.revoked_at = helper.created_at
    helper.save()

    with pytest.raises(Http404):
        access.case_for_member(helper.user, case.reference)


def test_a_helper_sees_only_their_own_uploads_unless_the_patient_allows_more():
    case, patient = patient_case()
    helper = _helper(case)
    mine = record_add(
        case=case, file=ContentFile(pdf_bytes(marker="mine"), name="a.pdf"),
        category="lab", uploaded_by=helper.user, run_checks=False,
    ).record  # fmt: skip
    theirs = record_add(
        case=case, file=ContentFile(pdf_bytes(marker="theirs"), name="b.pdf"),
        category="lab", uploaded_by=patient.user, run_checks=False,
    ).record  # fmt: skip

    assert list(access.records_visible_to(helper)) == [mine]
    assert not access.duplicate_revealed(helper, patient.user.pk)
    assert set(access.records_visible_to(patient)) == {mine, theirs}

    helper.can_view_all_records = True
    assert set(access.records_visible_to(helper)) == {mine, theirs}
    assert access.duplicate_revealed(helper, patient.user.pk)


def test_viewers_and_closed_cases_take_no_uploads():
    case, patient = patient_case()
    viewer = MembershipFactory(case=case, role=Membership.Role.VIEWER)

    assert access.may_upload(patient)
    assert not access.may_upload(viewer)
    case_withdraw(case=case, user=patient.user)
    patient.case.refresh_from_db()
    assert not access.may_upload(patient)


def test_only_the_patient_side_manages_the_case():
    case, patient = patient_case()
    helper = _helper(case, can_view_all_records=True)

    assert access.case_for_manager(patient.user, case.reference)[1] == patient
    with pytest.raises(Http404):
        access.case_for_manager(helper.user, case.reference)
    assert not access.access_changeable(patient)
    assert access.access_changeable(helper)


def test_a_coordinator_sees_their_own_and_unassigned_cases_a_manager_sees_all():
    coordinator, other = staff_in("coordinator"), staff_in("coordinator")
    own, _ = patient_case(assigned_coordinator=coordinator)
    unassigned, _ = patient_case()
    elsewhere, _ = patient_case(assigned_coordinator=other)
    manager = staff_in("manager")

    assert set(access.staff_cases(coordinator)) == {own, unassigned}
    assert set(access.staff_cases(manager)) >= {own, unassigned, elsewhere}
    assert not access.staff_cases(AnonymousUser()).exists()
    # Staff who may not read cases at all (translators, or no group yet) see none.
    assert not access.staff_cases(staff_in("translator")).exists()
    assert not access.staff_cases(StaffFactory()).exists()


def test_a_coordinator_may_take_an_unassigned_case_but_not_give_one_away():
    coordinator, other = StaffFactory(), StaffFactory()

    assert access.may_assign(coordinator, coordinator, None)
    assert not access.may_assign(coordinator, other, None)
    assert not access.may_assign(coordinator, coordinator, other.pk)
    assert access.may_assign(staff_in("manager"), other, coordinator.pk)


@pytest.mark.parametrize(
    ("role", "authority", "may"),
    [
        (Membership.Role.PATIENT, "", True),
        (Membership.Role.REPRESENTATIVE, "lpa_health", True),
        (Membership.Role.REPRESENTATIVE, "parental", True),
        (Membership.Role.REPRESENTATIVE, "permission", False),
        (Membership.Role.REPRESENTATIVE, "", False),  # made before authorities were asked
        (Membership.Role.CONTRIBUTOR, "lpa_health", False),
    ],
)
def test_the_sharing_consent_comes_from_the_patient_or_a_legal_authority(role, authority, may):
    case, _ = patient_case(submitted_by_family=True, representative_authority=authority)
    member = MembershipFactory(case=case, role=role)
    assert access.may_give_sharing_consent(member) is may


def test_only_a_representatives_case_with_the_patients_address_awaits_confirmation():
    waiting, _ = patient_case(submitted_by_family=True, patient_email="p@example.org")
    own, _ = patient_case()
    no_address, _ = patient_case(submitted_by_family=True, patient_email="")
    assert access.case_awaiting_patient_confirmation(waiting.reference.lower()) == waiting
    for ref in [own.reference, no_address.reference, "MC-0000-0000", "nonsense"]:
        with pytest.raises(Http404):
            access.case_awaiting_patient_confirmation(ref)


def test_a_confirmation_link_is_someone_elses_for_anyone_signed_in_but_the_patient():
    case, _ = patient_case(submitted_by_family=True, patient_email="P@example.org")
    assert access.confirmation_meant_for_someone_else(case, UserFactory(email="x@example.org"))
    assert not access.confirmation_meant_for_someone_else(case, UserFactory(email="p@example.org"))
    assert not access.confirmation_meant_for_someone_else(case, AnonymousUser())
