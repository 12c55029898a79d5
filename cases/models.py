from __future__ import annotations

import uuid

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cases import reference
from cases.consents import Authority, ConsentKind
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


def active_consent(case: Case, kind: str) -> Consent | None:
    return case.consents.filter(kind=kind, withdrawn_at__isnull=True).first()


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
        RECORD_UPLOADED = "record.uploaded", "Record uploaded"
        RECORD_CHECKED = "record.checked", "Record checked"
        RECORD_VIEWED = "record.viewed", "Record viewed"
        RECORD_DOWNLOADED = "record.downloaded", "Record downloaded"
        INVITATION_SENT = "invitation.sent", "Family invitation sent"
        INVITATION_ACCEPTED = "invitation.accepted", "Family invitation accepted"
        INVITATION_REVOKED = "invitation.revoked", "Family invitation cancelled"
        ACCESS_GRANTED = "access.granted", "Family access changed"
        ACCESS_REVOKED = "access.revoked", "Family access removed"
        RECORDS_REQUESTED = "records.requested", "Records requested"
        SUMMARY_DRAFTED = "summary.drafted", "Summary drafted"
        SUMMARY_EDITED = "summary.edited", "Summary section edited"
        DIRECTION_CONFIRMED = "direction.confirmed", "Direction confirmed"
        OUTCOME_RELEASED = "outcome.released", "Outcome released"
        CASE_ASSIGNED = "case.assigned", "Case assigned"
        CASE_FILE_REQUESTED = "case_file.requested", "Case file requested"
        CASE_FILE_DOWNLOADED = "case_file.downloaded", "Case file downloaded"
        CASE_FILE_APPROVED = "case_file.approved", "Partner case file approved"
        CASE_FILE_RELEASED = "case_file.released", "Case file released to the patient"
        IDENTIFIER_RESOLVED = "identifier.resolved", "Possible identifier accepted"
        RECORD_CLEARED = "record.cleared", "Record checked for identifiers"
        NOTE_ADDED = "note.added", "Internal note added"
        PATIENT_CONFIRMATION_SENT = (
            "patient.confirmation_sent",
            "Patient asked to confirm a representative's enquiry",
        )
        PATIENT_CONFIRMED = "patient.confirmed", "Patient confirmed a representative's enquiry"
        PATIENT_DISOWNED = "patient.disowned", "Patient said they did not agree to the enquiry"

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
        INVITATION = "invitation", "Family invitation"
        RECORDS_REQUESTED = "records_requested", "Records requested"
        OUTCOME_AVAILABLE = "outcome_available", "Outcome available"
        PATIENT_CONFIRMATION = "patient_confirmation", "Patient asked to confirm"

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
    # A scoped sign-in token (e.g. one invitation) instead of a general one.
    token_scope = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.state}"


class RecordCategory(models.TextChoices):
    DIAGNOSIS_LETTER = "diagnosis_letter", "Diagnosis or clinic letter"
    REFERRAL = "referral", "Referral letter"
    DISCHARGE = "discharge", "Discharge summary"
    LAB = "lab", "Blood test or lab report"
    IMAGING_REPORT = "imaging_report", "Imaging report"
    IMAGING_STUDY = "imaging_study", "Imaging study (DICOM)"
    PATHOLOGY = "pathology", "Pathology or biopsy report"
    GENETIC = "genetic", "Genetic or molecular test"
    MEDICATIONS = "medications", "Medications and allergies"
    TREATMENT_HISTORY = "treatment_history", "Treatment history"
    IVF_CYCLE = "ivf_cycle", "IVF cycle record"
    REVIEWER_OPINION = "reviewer_opinion", "Reviewer's opinion"
    OTHER = "other", "Other"


# Categories a patient or family member may choose; the reviewer's opinion is uploaded
# by a coordinator.
UPLOADER_CATEGORIES = [
    (value, label)
    for value, label in RecordCategory.choices
    if value != RecordCategory.REVIEWER_OPINION
]


def _record_path(record: Record, filename: str) -> str:
    # Server-chosen names only: the uploader's file name never reaches the file system.
    return f"records/{record.public_id}/{filename}"


class Record(models.Model):
    """One uploaded document. Files live in private storage under server-made names."""

    class State(models.TextChoices):
        RECEIVED = "received", "Received — being checked"
        CHECKING = "checking", "Being checked"
        READY = "ready", "Ready"
        REJECTED = "rejected", "Not accepted"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="records")
    uploaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploaded_records"
    )
    category = models.CharField(max_length=30, choices=RecordCategory.choices)
    document_date = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=500, blank=True)
    # Shown to people (escaped by templates), never used as a path.
    original_name = models.CharField(max_length=255)
    original = models.FileField(upload_to=_record_path, max_length=200)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    sniffed_type = models.CharField(max_length=100, blank=True)
    derivative = models.FileField(upload_to=_record_path, max_length=200, blank=True)
    derivative_type = models.CharField(max_length=100, blank=True)
    thumbnail = models.FileField(upload_to=_record_path, max_length=200, blank=True)
    preview = models.FileField(upload_to=_record_path, max_length=200, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.RECEIVED, db_index=True
    )
    rejection_reason = models.TextField(blank=True)
    # Letters and scans carry names and numbers; only a coordinator who has checked (or
    # redacted) a record lets its pages into the partner case file.
    cleared_for_partner = models.BooleanField(
        "checked: no identifiers",
        default=False,
        help_text="The content has no patient identifiers and may go into the partner file.",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["case", "sha256"], name="one_copy_per_case")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.case_id})"

    @property
    def is_pending(self) -> bool:
        return self.state in {self.State.RECEIVED, self.State.CHECKING}


class MedicalDirection(models.Model):
    """A China medical direction a case may be matched to; data, edited in the admin."""

    area = models.CharField(max_length=20, choices=MedicalArea.choices)
    name_en = models.CharField("name (English)", max_length=200)
    name_zh = models.CharField("name (Simplified Chinese)", max_length=200)
    helps_with = models.TextField("what it may help with")
    cautions = models.TextField(blank=True)
    high_risk = models.BooleanField(
        default=False,
        help_text="Eligibility depends on diagnosis, clinical assessment, hospital policy "
        "and regulation (e.g. CAR-T, stem-cell therapy, special-access devices).",
    )
    essential_categories = models.JSONField(
        default=list, help_text="Record categories this direction needs."
    )
    in_area_checklist = models.BooleanField(
        default=True,
        help_text="Its essential records make up the checklist patients in this area see.",
    )

    class Meta:
        ordering = ["area", "name_en"]

    def __str__(self) -> str:
        return self.name_en


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


class TextState(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    DRAFT = "draft", "Draft"
    REVIEWED = "reviewed", "Reviewed"


class SummarySection(models.Model):
    """One section of the case summary, in English and Simplified Chinese.

    ``version`` goes up with every save; an edit based on an older version is refused so
    two coordinators cannot overwrite each other (optimistic locking).
    """

    class Key(models.TextChoices):
        BACKGROUND = "background", "Background"
        TIMELINE = "timeline", "Timeline"
        CURRENT_CONCERN = "current_concern", "Current concern"
        GOAL = "goal", "The patient's goal"
        QUESTIONS = "questions", "Questions for reviewers"
        RECORDS_PROVIDED = "records_provided", "Records provided"
        RECORDS_MISSING = "records_missing", "Records missing"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="summary_sections")
    key = models.CharField(max_length=20, choices=Key.choices)
    text_en = models.TextField("English", blank=True)
    text_zh = models.TextField("Simplified Chinese", blank=True)
    state_en = models.CharField(
        max_length=12, choices=TextState.choices, default=TextState.NOT_STARTED
    )
    state_zh = models.CharField(
        max_length=12, choices=TextState.choices, default=TextState.NOT_STARTED
    )
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "key"], name="one_section_per_key")]
        permissions = [("translate_summarysection", "Can edit the Chinese side of summaries")]

    def __str__(self) -> str:
        return f"{self.get_key_display()} ({self.case_id})"

    @property
    def order(self) -> int:
        return list(self.Key).index(self.Key(self.key))


class CaseDirection(models.Model):
    """A medical direction a coordinator confirmed for a case, with the reason."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="directions")
    direction = models.ForeignKey(MedicalDirection, on_delete=models.PROTECT, related_name="+")
    rationale = models.TextField()
    confirmed_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "direction"], name="one_match_per_direction")
        ]

    def __str__(self) -> str:
        return f"{self.direction} for {self.case_id}"


class CaseOutcome(models.Model):
    """What came back from the review, explained in plain English, and what comes next."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="outcome")
    opinion_summary = models.TextField("plain-English summary of the opinion")
    next_steps = models.TextField(
        help_text="More records, hospital communication, appointment planning, translation, "
        "travel feasibility, what to share with their UK clinicians."
    )
    written_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Outcome for {self.case_id}"


def _case_file_path(case_file: CaseFile, filename: str) -> str:
    return f"case-files/{case_file.public_id}/{filename}"


class CaseFile(models.Model):
    """A generated PDF case file: one version of one variant of one case."""

    class Variant(models.TextChoices):
        INTERNAL = "internal", "Internal (everything)"
        PARTNER = "partner", "Partner (pseudonymised)"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RENDERING = "rendering", "Rendering"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_files")
    variant = models.CharField(max_length=10, choices=Variant.choices)
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    file = models.FileField(upload_to=_case_file_path, max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    excluded = models.JSONField(
        default=list, blank=True, help_text="Records that could not be included, with why."
    )
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(
        null=True, blank=True, help_text="When the patient may download it (internal only)."
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "variant", "version"], name="one_version_per_variant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.variant} v{self.version}"


class IdentifierResolution(models.Model):
    """A coordinator's decision that a flagged piece of summary text may stay."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="identifier_resolutions")
    text = models.CharField(max_length=200)
    kind = models.CharField(max_length=30)
    resolved_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "text"], name="one_resolution_per_text")
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.case_id}"
