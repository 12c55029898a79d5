"""The case aggregate and the people, consents and history around it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from cases.domain import reference
from cases.domain.consents import Authority, ConsentKind
from cases.domain.enquiry import ContactMethod, Goal, MedicalArea, Sex
from cases.domain.workflow import (
    PATIENT_TEXT,
    Status,
    WithdrawalChannel,
    withdrawn_on_request_text,
)

User = settings.AUTH_USER_MODEL

# Set only inside cases.transitions.case_transition, the one place a status may change.
_status_change_allowed: ContextVar[bool] = ContextVar("case_status_change", default=False)


class StatusChangeRefused(RuntimeError):
    """A case's status was about to change outside ``cases.transitions``."""

    def __init__(self) -> None:
        super().__init__(
            "A case's status changes only through cases.transitions.case_transition, which "
            "checks the workflow and records the event and the audit row."
        )


@contextmanager
def status_change_allowed() -> Iterator[None]:
    """For ``cases.transitions`` only: lets the status it has checked be written."""
    token = _status_change_allowed.set(True)
    try:
        yield
    finally:
        _status_change_allowed.reset(token)


class CaseQuerySet(models.QuerySet["Case"]):
    """Refuses bulk writes of ``status``, which would skip the workflow and the audit."""

    def update(self, **kwargs: Any) -> int:
        if "status" in kwargs and not _status_change_allowed.get():
            raise StatusChangeRefused
        return super().update(**kwargs)

    def bulk_update(self, objs: Any, fields: Iterable[str], batch_size: int | None = None) -> int:
        fields = list(fields)
        if "status" in fields and not _status_change_allowed.get():
            raise StatusChangeRefused
        return super().bulk_update(objs, fields, batch_size=batch_size)


class Case(models.Model):
    """One patient's enquiry and everything that belongs to it."""

    # The public reference is the primary key, so no URL — the admin's included — ever
    # shows a sequential id.
    reference = models.CharField(max_length=12, primary_key=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    assigned_coordinator = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_cases"
    )

    # Who filled it in.
    submitted_by_family = models.BooleanField(default=False)
    relationship = models.CharField(max_length=100, blank=True)
    # What lets a family member or carer act for the patient; blank when the patient
    # filled it in themselves.
    representative_authority = models.CharField(
        max_length=20, choices=Authority.choices, blank=True
    )
    # The patient's own address, when someone else filled in the enquiry: the patient is
    # sent their own link to confirm it. Blank if they have none.
    patient_email = models.EmailField(blank=True)
    patient_confirmed_at = models.DateTimeField(null=True, blank=True)

    # Contact (the person filling in the form).
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=32)
    preferred_contact = models.CharField(
        max_length=10, choices=ContactMethod.choices, default=ContactMethod.EMAIL
    )
    contact_times = models.CharField(max_length=200, blank=True)

    # The patient.
    patient_name = models.CharField(max_length=200)
    patient_date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    current_provider = models.CharField("current hospital, trust or provider", max_length=200)
    # More of who the patient is, only so that redaction can find it on record pages and in
    # free text; never printed in a partner file.
    patient_name_zh = models.CharField(
        "patient's name in Chinese characters", max_length=100, blank=True
    )
    postcode = models.CharField(max_length=10, blank=True)
    address = models.TextField("home address", blank=True)
    other_identifiers = models.TextField(
        blank=True,
        help_text="Other names, clinicians, hospitals or numbers that identify the patient, "
        "one per line. Redaction looks for these too.",
    )

    # Key facts printed at the top of the case file; from the enquiry or the coordinator.
    sex = models.CharField(max_length=20, choices=Sex.choices, blank=True)
    current_medicines = models.TextField(blank=True)
    allergies = models.TextField(blank=True)
    other_conditions = models.TextField("other medical conditions", blank=True)

    # The medical picture, in the patient's words.
    medical_area = models.CharField(max_length=20, choices=MedicalArea.choices)
    diagnosis = models.TextField("current diagnosis")
    treatment_so_far = models.TextField(blank=True)
    treatment_plan = models.TextField("current treatment plan", blank=True)
    worries = models.TextField("what worries them", blank=True)

    # The question.
    questions = models.JSONField(default=list)
    goal = models.CharField(max_length=20, choices=Goal.choices)
    decision_deadline = models.DateField(null=True, blank=True)
    language = models.CharField("preferred language", max_length=100, default="English")
    interpretation_needs = models.CharField(max_length=300, blank=True)

    # The area's essential record categories, and how many have no record yet. Kept up to
    # date by cases.records.case_completeness_refresh so the queue can filter and show
    # "2/4 essential" for 100,000 cases without scanning every record.
    essentials_total = models.PositiveSmallIntegerField(default=0)
    essentials_missing = models.PositiveSmallIntegerField(default=0)

    # Which of the preparation questions the patient has ticked, by key.
    preparation_ticked = models.JSONField(default=list, blank=True)

    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_patient_activity_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["status", "-submitted_at"]),
            models.Index(fields=["assigned_coordinator", "status", "-submitted_at"]),
            models.Index(
                fields=["-submitted_at"],
                name="case_open_incomplete",
                condition=models.Q(essentials_missing__gt=0)
                & ~models.Q(status__in=["closed", "withdrawn", "declined"]),
            ),
        ]
        permissions = [
            ("reassign_case", "Can assign cases to any coordinator"),
            ("view_all_cases", "Can see every case, not only their own and unassigned ones"),
            ("export_case", "Can export case lists"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs) -> None:
        self._refuse_direct_status_change(kwargs.get("update_fields"))
        self._save(*args, **kwargs)

    def _refuse_direct_status_change(self, update_fields: Any) -> None:
        """A new case starts as submitted; after that only a transition moves it."""
        if self._state.adding or _status_change_allowed.get():
            return
        if update_fields is not None and "status" not in update_fields:
            return
        # Compared with the row, not with what this instance loaded: an instance that fell
        # behind a transition must not write the old status back either.
        stored = Case.objects.filter(pk=self.pk).values_list("status", flat=True).first()
        if stored is not None and stored != self.status:
            raise StatusChangeRefused

    def _save(self, *args, **kwargs) -> None:
        if self.reference:
            super().save(*args, **kwargs)
            return
        # 35 random bits make a clash rare; the primary key makes it impossible.
        kwargs["force_insert"] = True
        for _attempt in range(10):
            self.reference = reference.generate()
            try:
                with transaction.atomic():
                    super().save(*args, **kwargs)
                return
            except IntegrityError:
                if not Case.objects.filter(reference=self.reference).exists():
                    raise
        raise IntegrityError("could not find a free case reference")

    @property
    def patient_initials(self) -> str:
        # "陈伟 (Chen Wei)" gives 陈CW, not 陈(C: brackets and quotes are not letters.
        letters = (next((c for c in part if c.isalpha()), "") for part in self.patient_name.split())
        return "".join(letters).upper()[:3]

    @property
    def status_for_patient(self) -> tuple[str, str]:
        if self.status == Status.WITHDRAWN:
            # The patient sees who withdrew: themselves, or a coordinator at their request.
            event = self.events.filter(to_status=Status.WITHDRAWN).exclude(channel="").last()
            if event is not None:
                return withdrawn_on_request_text(
                    WithdrawalChannel(event.channel).label,
                    f"{timezone.localtime(event.at):%-d %B %Y}",
                )
        return PATIENT_TEXT[Status(self.status)]


class Membership(models.Model):
    """Who is on a case and in what role."""

    class Role(models.TextChoices):
        PATIENT = "patient", "Patient"
        REPRESENTATIVE = "representative", "Family member or carer acting for the patient"
        CONTRIBUTOR = "contributor", "Family contributor (uploads records)"
        VIEWER = "viewer", "Family viewer"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="case_memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    can_view_all_records = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} on {self.case_id}"

    @property
    def manages_case(self) -> bool:
        """The patient, or the family member who filled the enquiry in for them."""
        return self.role in {self.Role.PATIENT, self.Role.REPRESENTATIVE}

    @property
    def sees_whole_case(self) -> bool:
        """Every record and the case's health content, not only their own uploads."""
        return self.manages_case or self.can_view_all_records


class Consent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    given_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL)
    text_version = models.CharField(max_length=30)
    text_sha256 = models.CharField(max_length=64)
    # The authority a representative gave it under; blank when the patient gave it.
    authority = models.CharField(max_length=20, choices=Authority.choices, blank=True)
    given_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["given_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.text_version})"


class CaseEvent(models.Model):
    """One status transition: from, to, who, when and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.TextField(blank=True)
    # Set when a coordinator withdrew the case on the patient's request: how they asked.
    channel = models.CharField(max_length=20, choices=WithdrawalChannel.choices, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class Invitation(models.Model):
    """A patient's invitation to a family member to help with one case."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    can_view_all_records = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation to {self.case_id}"

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )

    @property
    def state_label(self) -> str:
        if self.accepted_at:
            return "Accepted"
        if self.revoked_at:
            return "Cancelled"
        if self.expires_at <= timezone.now():
            return "Expired"
        return "Waiting for them to accept"


class InternalNote(models.Model):
    """A coordinator's note on a case. Never shown to the patient or family."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="internal_notes")
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Note on {self.case_id}"


class RecordRequest(models.Model):
    """A coordinator's request for missing records, shown to the patient in the portal."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="record_requests")
    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    categories = models.JSONField(default=list)
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Records requested for {self.case_id}"
