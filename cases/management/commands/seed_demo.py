"""Demo data for the embedded default: staff (two coordinators, so the two-person release of
a partner file can be tried) and a few cases in different states.

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
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from cases import services
from cases.domain.consents import Authority, ConsentKind
from cases.domain.enquiry import Enquiry
from cases.domain.workflow import Status
from cases.models import Case, Goal, MedicalArea, RecordCategory
from cases.records import services as records_services
from cases.records.processing import record_process
from cases.records.redaction import services as redaction
from cases.transitions import case_transition

COORDINATOR = "coordinator"
# Release is a two-person decision: the second coordinator approves the first one's file.
STAFF = {
    COORDINATOR: "coordinator",
    "coordinator2": "coordinator",
    "translator": "translator",
    "manager": "manager",
}
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
        # Her clinic letter is on file, redacted and approved, and she agreed to sharing:
        # the partner file shows what a partner sees of a record.
        "letters": True,
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
    help = "Create demo staff (two coordinators) and demo cases (safe to run again)."

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
            coordinator, _created = staff[COORDINATOR]
            made = 0
            for spec in DEMO_CASES:
                if Case.objects.filter(contact_email=spec["email"]).exists():
                    continue
                case = self._create_case(spec, coordinator)
                if spec.get("letters"):
                    self._add_redacted_letter(case, spec, coordinator)
                made += 1
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({made} new demo cases)."))
        new = [name for name, (_user, made_now) in staff.items() if made_now]
        if len(new) == len(staff):
            passwords = f", password '{password}'"
        elif new:
            names = ", ".join(f"'{name}'" for name in new)
            passwords = f" (password '{password}' for the new {names}; the others unchanged)"
        else:
            passwords = " (passwords unchanged)"
        self.stdout.write(
            f"Staff sign-in: {settings.SITE_URL}/admin/ as "
            + ", ".join(f"'{name}'" for name in STAFF)
            + passwords
        )
        self.stdout.write(
            "Two-person release: 'coordinator' asks for a partner file, 'coordinator2' "
            "approves it (any coordinator may open a case in review)."
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

    def _add_redacted_letter(self, case: Case, spec: dict, coordinator) -> None:
        """A typed clinic letter full of her identifiers, redacted and approved."""
        from weasyprint import HTML

        case.postcode = "LS1 4AP"
        case.address = "14 Quarry Hill Road, Leeds"
        case.other_identifiers = "Dr Priya Shah"
        case.save(update_fields=["postcode", "address", "other_identifiers"])
        name, born = spec["patient_name"], spec["born"]
        html = f"""<html><body style="font-family: DejaVu Sans; font-size: 11pt">
          <p><b>Demo NHS Foundation Trust</b> · Oncology Outpatients</p>
          <p>Patient: {name}<br>Date of birth: {born:%d.%m.%Y}<br>
          NHS number: 943 476 5919<br>Address: 14 Quarry Hill Road, Leeds LS1 4AP<br>
          Telephone: +44 7700 900123</p>
          <p>Dear Dr Okafor,</p>
          <p>I saw Mrs {name.split()[-1]} today. Stage III colorectal cancer with liver
          lesions on the last CT; six cycles of FOLFOX completed. We discussed liver
          resection after restaging.</p><p>Yours sincerely,<br>Dr Priya Shah</p>
          </body></html>"""
        letter = HTML(string=html).write_pdf()
        added = records_services.record_add(
            case=case,
            file=ContentFile(letter, name="clinic-letter.pdf"),
            category=RecordCategory.DIAGNOSIS_LETTER,
            document_date=date.today() - timedelta(days=40),
            description="Oncology clinic letter",
            run_checks=False,
        )
        record = added.record
        assert record is not None, added.error  # our own letter: never refused
        record_process(record_id=record.pk)
        copy = redaction.partner_copy_prepare(record=record)
        following: int | None = 1
        while following:
            following = redaction.partner_copy_propose(
                partner_copy_id=copy.pk, first_page=following
            )
        copy.refresh_from_db()
        redaction.partner_copy_approve(partner_copy=copy, by=coordinator, accept_proposals=True)
        patient = case.memberships.get(role="patient").user
        services.consent_give(case=case, kind=ConsentKind.SHARING, user=patient)

    def _staff(self, username: str, group: str, password: str):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@example.org",
                "first_name": "Demo",
                # "Demo Coordinator 2": the two coordinators are told apart in every list.
                "last_name": f"{group.title()} {username.removeprefix(group)}".strip(),
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
