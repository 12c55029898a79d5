"""Demo data for the embedded default: a coordinator and a few cases in different states.

Idempotent for cases: demo cases are recognised by their patients' e-mail addresses at
example.org, so running it twice adds none. Never in production: it makes staff accounts
with a printed password.
"""

from __future__ import annotations

from base64 import b32encode
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from cases import services
from cases.domain.consents import Authority, ConsentKind
from cases.domain.enquiry import Enquiry
from cases.domain.workflow import Status
from cases.models import Case, Goal, MedicalArea
from cases.transitions import case_transition

COORDINATOR = "coordinator"
STAFF = {COORDINATOR: "coordinator", "translator": "translator", "manager": "manager"}
DEVICE_NAME = "demo authenticator"
DEMO_PASSWORD_DEFAULT = "demo-coordinator-2026"  # noqa: S105 (demo only)

DEMO_CASES = [
    {
        "email": "margaret.hughes@example.org",
        "patient_name": "Margaret Hughes",
        "born": date(1961, 4, 12),
        "nhs_number": "9434765919",
        "area": MedicalArea.CANCER,
        "diagnosis": "Stage III colorectal cancer, diagnosed in June. Liver lesions seen on "
        "the last CT scan.",
        "questions": [
            "Is liver surgery still an option after chemotherapy?",
            "Are there treatments in China my team has not mentioned?",
        ],
        "goal": Goal.TREATMENT,
        "path": [Status.TRIAGE, Status.AWAITING_RECORDS],
        "days_ago": 9,
    },
    {
        "email": "wei.chen@example.org",
        "patient_name": "陈伟 (Wei Chen)",
        "born": date(1988, 9, 3),
        "nhs_number": "",
        "area": MedicalArea.FERTILITY,
        "diagnosis": "Three failed IVF cycles; unexplained infertility.",
        "questions": ["What else could be investigated before another cycle?"],
        "goal": Goal.INFORMATION,
        "path": [Status.TRIAGE, Status.DRAFTING],
        "days_ago": 21,
    },
    {
        "email": "tom.okafor@example.org",
        "patient_name": "Tom Okafor",
        "born": date(2015, 1, 30),
        "nhs_number": "",
        "area": MedicalArea.RARE_DISEASE,
        "diagnosis": "Suspected mitochondrial disorder; genetic testing inconclusive.",
        "questions": ["Could whole-genome sequencing find a diagnosis?"],
        "goal": Goal.INFORMATION,
        "path": [],
        "days_ago": 1,
        "family": True,
    },
]


class Command(BaseCommand):
    help = "Create a demo coordinator and demo cases (safe to run again)."

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo never runs in production (DJANGO_ENV=production): it makes staff "
                "accounts with a printed password. Create real staff with createsuperuser "
                "and the admin."
            )
        password = getattr(settings, "DEMO_COORDINATOR_PASSWORD", "") or DEMO_PASSWORD_DEFAULT
        with transaction.atomic():
            staff = {
                username: self._staff(username, group, password)
                for username, group in STAFF.items()
            }
            coordinator, created = staff[COORDINATOR]
            made = 0
            for spec in DEMO_CASES:
                if Case.objects.filter(contact_email=spec["email"]).exists():
                    continue
                self._create_case(spec, coordinator)
                made += 1
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({made} new demo cases)."))
        self.stdout.write(
            f"Staff sign-in: {settings.SITE_URL}/admin/ as "
            + ", ".join(f"'{name}'" for name in STAFF)
            + (f", password '{password}'" if created else " (passwords unchanged)")
        )
        self.stdout.write(
            "Two-factor sign-in (required whenever DEBUG is off): each account has a new "
            "authenticator key from this run; add it to an authenticator app or open its link."
        )
        for username, (user, _created) in staff.items():
            device = TOTPDevice.objects.get(user=user, name=DEVICE_NAME)
            key = b32encode(device.bin_key).decode()
            self.stdout.write(f"  {username}: {key}  {device.config_url}")
        self.stdout.write(
            f"Patient sign-in: {settings.SITE_URL}/sign-in/ with "
            f"{DEMO_CASES[0]['email']}; the link is printed in the worker's console."
        )

    def _staff(self, username: str, group: str, password: str):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@example.org",
                "first_name": "Demo",
                "last_name": group.title(),
                "is_staff": True,
            },
        )
        if created:
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get(name=group))
        # A new secret every run, never one from the repository: a key that anyone can
        # read is no second factor.
        TOTPDevice.objects.update_or_create(
            user=user, name=DEVICE_NAME, defaults={"key": random_hex(20), "confirmed": True}
        )
        return user, created

    def _create_case(self, spec: dict, coordinator) -> Case:
        family = spec.get("family", False)
        enquiry = Enquiry(
            submitted_by_family=family,
            relationship="Mother" if family else "",
            representative_authority=Authority.PARENTAL if family else "",
            patient_email="",
            contact_name="Grace Okafor" if family else spec["patient_name"],
            contact_email=spec["email"],
            contact_phone="+447700900123",
            preferred_contact="email",
            contact_times="Weekday mornings",
            patient_name=spec["patient_name"],
            patient_date_of_birth=spec["born"],
            nhs_number=spec["nhs_number"],
            current_provider="Demo NHS Foundation Trust",
            medical_area=spec["area"],
            diagnosis=spec["diagnosis"],
            treatment_so_far="",
            treatment_plan="",
            worries="",
            questions=spec["questions"],
            goal=spec["goal"],
            decision_deadline=date.today() + timedelta(days=30),
            language="English",
            interpretation_needs="",
            consents=[ConsentKind.PROCESSING, ConsentKind.BOUNDARIES],
        )
        case = services.case_submit(enquiry=enquiry)
        submitted = timezone.now() - timedelta(days=spec["days_ago"])
        Case.objects.filter(pk=case.pk).update(
            submitted_at=submitted, last_patient_activity_at=submitted
        )
        case.assigned_coordinator = coordinator
        case.save(update_fields=["assigned_coordinator"])
        for status in spec["path"]:
            case_transition(case=case, to=status, actor=coordinator)
        return case
