from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from cases import reference
from cases.consents import ConsentKind
from cases.workflow import PATIENT_TEXT, Status

User = settings.AUTH_USER_MODEL


class MedicalArea(models.TextChoices):
    CANCER = "cancer", "Cancer and oncology"
    RARE_DISEASE = "rare_disease", "Rare disease and complex diagnosis"
    FERTILITY = "fertility", "Fertility and reproductive medicine"
    EYE_CARE = "eye_care", "Eye care"
    REHABILITATION = "rehabilitation", "Rehabilitation and chronic conditions"
    OTHER = "other", "Other"


class Goal(models.TextChoices):
    INFORMATION = "information", "Information: understand the options"
    TREATMENT = "treatment", "Treatment exploration: could treatment in China be possible?"
    TRAVEL = "travel", "Travel planning: what a visit would involve"


class ContactMethod(models.TextChoices):
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"


class Case(models.Model):
    """One patient's enquiry and everything that belongs to it."""

    reference = models.CharField(max_length=12, unique=True, editable=False)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    assigned_coordinator = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_cases"
    )

    # Who filled it in.
    submitted_by_family = models.BooleanField(default=False)
    relationship = models.CharField(max_length=100, blank=True)

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
    nhs_number = models.CharField(max_length=10, blank=True)
    current_provider = models.CharField("current hospital, trust or provider", max_length=200)

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

    # Which of the preparation questions the patient has ticked, by key.
    preparation_ticked = models.JSONField(default=list, blank=True)

    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_patient_activity_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["status", "-submitted_at"])]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs) -> None:
        if self.reference:
            super().save(*args, **kwargs)
            return
        # 35 random bits make a clash rare; the unique index makes it impossible.
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
        return "".join(part[0] for part in self.patient_name.split() if part).upper()[:3]

    @property
    def status_for_patient(self) -> tuple[str, str]:
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


class Consent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    given_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL)
    text_version = models.CharField(max_length=30)
    text_sha256 = models.CharField(max_length=64)
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
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("audit events are append-only")

    def delete(self):
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    """Append-only: who did what to which case, record or file, when and from where.

    Holds identifiers and action names only — never health data.
    """

    class Action(models.TextChoices):
        CASE_SUBMITTED = "case.submitted", "Case submitted"
        CASE_VIEWED = "case.viewed", "Case viewed"
        CASE_STATUS_CHANGED = "case.status_changed", "Status changed"
        CONSENT_GIVEN = "consent.given", "Consent given"
        CONSENT_WITHDRAWN = "consent.withdrawn", "Consent withdrawn"
        SIGN_IN_LINK_SENT = "sign_in.link_sent", "Sign-in link sent"
        SIGNED_IN = "sign_in.signed_in", "Signed in"
        PREPARATION_UPDATED = "case.preparation_updated", "Preparation checklist updated"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=40, choices=Action.choices)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    target = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["case", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("audit events are append-only")


class Notification(models.Model):
    """An e-mail we owe someone. Carries a reference and a link, never health data."""

    class Kind(models.TextChoices):
        CASE_RECEIVED = "case_received", "Case received"
        SIGN_IN_LINK = "sign_in_link", "Sign-in link"
        STATUS_CHANGED = "status_changed", "Status changed"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    to_email = models.EmailField()
    # When set, the e-mail carries a fresh single-use sign-in link for this person, made
    # at send time so no token is ever stored.
    sign_in_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE)
    # Where the link lands; a path on our own site, never anything about the case.
    next_path = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.state}"
