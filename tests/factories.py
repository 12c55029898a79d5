from __future__ import annotations

from datetime import date

import factory
from django.contrib.auth import get_user_model

from cases.models import Case, Goal, MedicalArea, Membership


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    username = factory.LazyAttribute(lambda user: user.email)
    password = factory.django.Password("a-long-test-password-123")


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case
        skip_postgeneration_save = True

    contact_name = "Ada Patient"
    contact_email = factory.Sequence(lambda n: f"patient{n}@example.org")
    contact_phone = "+447700900123"
    patient_name = "Ada Patient"
    patient_date_of_birth = date(1970, 5, 17)
    nhs_number = "9434765919"
    current_provider = "Leeds Teaching Hospitals NHS Trust"
    medical_area = MedicalArea.CANCER
    diagnosis = "Secret diagnosis text: metastatic melanoma"
    questions = factory.LazyFunction(lambda: ["Is immunotherapy an option?"])
    goal = Goal.INFORMATION

    @factory.post_generation
    def completeness(case, create, extracted, **kwargs):
        # As case_submit does: the queue's "2/4 essential" is stored on the case.
        if create:
            from cases.records.completeness import case_completeness_refresh

            case_completeness_refresh(case)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    case = factory.SubFactory(CaseFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.PATIENT
    can_view_all_records = True


def patient_case(**case_fields) -> tuple[Case, Membership]:
    """A case with its patient member, the user named by the case's contact e-mail."""
    case = CaseFactory(**case_fields)
    user = UserFactory(email=case.contact_email)
    return case, MembershipFactory(case=case, user=user)


def staff_in(group: str, **fields):
    """A staff user in one of the groups the data migration made."""
    from django.contrib.auth.models import Group

    user = StaffFactory(**fields)
    user.groups.add(Group.objects.get(name=group))
    return user
