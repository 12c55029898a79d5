"""Every rule of who may see or do what, one named function per question.

Portal views, downloads, the admin (its own pages and third-party ones), services and
tests ask these functions; none of them writes its own filter. Three kinds of people:

* **members** of a case (the patient, a representative who filled the enquiry in for
  them, family contributors and viewers): found through their ``Membership``; anything
  they may not see is a 404, never a 403, so nobody learns what exists;
* **staff** in the admin: coordinators see their own and unassigned cases, managers
  (``cases.view_all_cases``) see all, translators work on summaries of every case;
* **nobody else**: anonymous requests get the same 404 as a stranger.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from cases.domain import reference
from cases.domain.consents import LEGAL_AUTHORITIES, ConsentKind
from cases.domain.workflow import FINAL, RECORDS_CHANGEABLE, Status, allowed_targets
from cases.models import (
    AuditEvent,
    Case,
    CaseFile,
    CaseOutcome,
    Consent,
    Invitation,
    MedicalDirection,
    Membership,
    Notification,
    PartnerCopy,
    Record,
    RecordQuerySet,
    RecordRequest,
    RedactionPage,
    ResumableUpload,
    SummarySection,
)

# Whoever is asking: a signed-in user, or the anonymous visitor Django stands in for them.
type Person = User | AnonymousUser


def _may(user: Person, permission: str) -> bool:
    """A staff permission (the anonymous visitor has none)."""
    return user.has_perm(permission)


# --- Members: the patient and their family -------------------------------------------------


def cases_for_member(user: Person) -> QuerySet[Case]:
    """The cases someone is an active member of (their "my cases" list)."""
    if isinstance(user, AnonymousUser):
        return Case.objects.none()
    return Case.objects.filter(
        memberships__user=user, memberships__revoked_at__isnull=True
    ).distinct()


def memberships_for(user: Person) -> QuerySet[Membership]:
    """The person's current memberships, with their cases, newest case first."""
    if isinstance(user, AnonymousUser):
        return Membership.objects.none()
    return (
        Membership.objects.filter(user=user, revoked_at__isnull=True)
        .select_related("case")
        .order_by("-case__submitted_at")
    )


def has_active_membership(user: Person) -> bool:
    """Whether this person is on any case, so a sign-in link is worth sending."""
    if not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user, revoked_at__isnull=True).exists()


def case_for_member(user: Person, ref: str) -> tuple[Case, Membership]:
    """The case with this reference and the user's membership of it, or 404.

    Not a member, revoked, anonymous, or a malformed reference: all the same 404, so the
    answer never tells whether a reference exists.
    """
    canonical = reference.normalise(ref)
    if canonical is None or canonical != ref or isinstance(user, AnonymousUser):
        raise Http404("No such case")
    membership = (
        Membership.objects.select_related("case")
        .filter(case__reference=canonical, user=user, revoked_at__isnull=True)
        .first()
    )
    if membership is None:
        raise Http404("No such case")
    return membership.case, membership


def case_for_manager(user: Person, ref: str) -> tuple[Case, Membership]:
    """As ``case_for_member``, for pages only the patient (or their representative) uses."""
    case, membership = case_for_member(user, ref)
    if not membership.manages_case:
        raise Http404("No such case")
    return case, membership


def case_for_member_who_sees_all(user: Person, ref: str) -> tuple[Case, Membership]:
    """As ``case_for_member``, for what only those who see the whole case may do."""
    case, membership = case_for_member(user, ref)
    if not membership.sees_whole_case:
        raise Http404("No such case")
    return case, membership


def sees_whole_case(membership: Membership) -> bool:
    """Every record and the case's health content, not only their own uploads."""
    return membership.sees_whole_case


def records_visible_to(membership: Membership) -> RecordQuerySet:
    """The patient (and whoever they allow) sees every record; others only their own."""
    records = Record.objects.present().filter(case=membership.case).select_related("uploaded_by")
    if membership.sees_whole_case:
        return records
    return records.filter(uploaded_by=membership.user)


def record_for_member(user: Person, ref: str, public_id: UUID | str) -> tuple[Record, Membership]:
    """A record of this case that this member may see, or 404 — whoever is asking."""
    _case, membership = case_for_member(user, ref)
    record = records_visible_to(membership).filter(public_id=public_id).first()
    if record is None:
        raise Http404("No such record")
    return record, membership


def may_upload(membership: Membership) -> bool:
    """Viewers only read; nobody adds records to a closed, withdrawn or declined case."""
    return membership.role != Membership.Role.VIEWER and membership.case.status not in FINAL


def case_for_uploader(user: Person, ref: str) -> tuple[Case, Membership]:
    """As ``case_for_member``, for members who may add records now (``may_upload``).

    Everyone else — viewers, members of a closed case — gets the same 404.
    """
    case, membership = case_for_member(user, ref)
    if not may_upload(membership):
        raise Http404("No such case")
    return case, membership


def resumable_upload_for(
    user: Person, ref: str, public_id: UUID | str
) -> tuple[Membership, ResumableUpload]:
    """An unfinished chunked upload, only for the member who started it and only while
    they may still upload to the case; anyone else gets the same 404 as for none."""
    case, membership = case_for_uploader(user, ref)
    upload = ResumableUpload.objects.filter(
        public_id=public_id, case=case, user=membership.user
    ).first()
    if upload is None:
        raise Http404("No such upload")
    return membership, upload


def duplicate_revealed(membership: Membership, duplicate_uploader_id: int | None) -> bool:
    """Whether telling this member "already uploaded on <date>" reveals nothing new.

    A helper who sees only their own uploads must not learn what someone else has put on
    the case, or when: for them a duplicate is named only if it was their own.
    """
    return membership.sees_whole_case or duplicate_uploader_id == membership.user_id


def may_give_sharing_consent(membership: Membership) -> bool:
    """Who may agree to share a pseudonymised case file with China.

    The patient themselves; or a representative who stated a legal authority to decide
    for them (a lasting power of attorney for health and welfare, or parental
    responsibility for a child). The patient's permission to fill in an enquiry is not
    enough: then the patient gives this consent from their own link.
    """
    if membership.role == Membership.Role.PATIENT:
        return True
    return (
        membership.role == Membership.Role.REPRESENTATIVE
        and membership.case.representative_authority in LEGAL_AUTHORITIES
    )


def may_withdraw(membership: Membership) -> bool:
    return membership.manages_case and Status.WITHDRAWN in allowed_targets(membership.case.status)


def may_change_record(membership: Membership, record: Record) -> bool:
    """Delete or replace an upload: its own uploader, or the patient, before review."""
    if membership.role == Membership.Role.VIEWER or record.state == Record.State.DELETED:
        return False
    if record.case.status not in RECORDS_CHANGEABLE:
        return False
    return record.uploaded_by_id == membership.user_id or membership.manages_case


def may_read_messages(membership: Membership) -> bool:
    """The thread carries health content: the patient, their representative, and the
    family members the patient lets see the whole case."""
    return membership.sees_whole_case


def may_write_message(membership: Membership) -> bool:
    return may_read_messages(membership) and membership.role != Membership.Role.VIEWER


def case_messages_for_member(user: Person, ref: str) -> tuple[Case, Membership]:
    """The case whose thread this member may read, or the same 404 as any other case."""
    case, membership = case_for_member(user, ref)
    if not may_read_messages(membership):
        raise Http404("No such case")
    return case, membership


def message_readers(case: Case) -> QuerySet[Membership]:
    """Members who read the thread (and are told of new messages)."""
    return (
        case.memberships.filter(revoked_at__isnull=True)
        .filter(
            Q(role__in=[Membership.Role.PATIENT, Membership.Role.REPRESENTATIVE])
            | Q(can_view_all_records=True)
        )
        .select_related("user")
    )


def staff_access_events(case: Case) -> QuerySet[AuditEvent]:
    """Staff views and downloads of a case, for "who has seen my case" (its patient only)."""
    return case.audit_events.filter(
        action__in=[
            AuditEvent.Action.CASE_VIEWED,
            AuditEvent.Action.RECORD_VIEWED,
            AuditEvent.Action.RECORD_DOWNLOADED,
            AuditEvent.Action.CASE_FILE_DOWNLOADED,
        ],
        actor__is_staff=True,
    )


def may_confirm_erasure(user: Person, case: Case) -> bool:
    """A coordinator who may work the case (change permission and sees it) confirms."""
    return _may(user, "cases.change_case") and staff_cases(user).filter(pk=case.pk).exists()


def open_record_request_for(membership: Membership) -> RecordRequest | None:
    """The coordinator's open request for records, for those who see the whole case."""
    if not membership.sees_whole_case:
        return None
    return membership.case.record_requests.filter(answered_at__isnull=True).first()


def outcome_for(membership: Membership) -> CaseOutcome | None:
    """The released outcome, for those who see the whole case."""
    if not membership.sees_whole_case:
        return None
    return CaseOutcome.objects.filter(case=membership.case, released_at__isnull=False).first()


def released_case_file(case: Case, public_id: UUID | str | None = None) -> CaseFile | None:
    """The newest internal case file a coordinator released to the patient."""
    files = CaseFile.objects.filter(
        case=case, variant=CaseFile.Variant.INTERNAL, state=CaseFile.State.READY
    ).exclude(released_at=None)
    if public_id is not None:
        files = files.filter(public_id=public_id)
    return files.order_by("-version").first()


def case_file_for_manager(user: Person, ref: str, public_id: UUID | str) -> CaseFile:
    """A released case file, for the patient or their representative only; else 404."""
    case, membership = case_for_member(user, ref)
    case_file = released_case_file(case, public_id) if membership.manages_case else None
    if case_file is None:
        raise Http404("No such case file")
    return case_file


def case_manager_emails(case: Case) -> list[str]:
    """Who is told about the case by e-mail: the patient, or their representative."""
    return list(
        case.memberships.filter(
            role__in=[Membership.Role.PATIENT, Membership.Role.REPRESENTATIVE],
            revoked_at__isnull=True,
        ).values_list("user__email", flat=True)
    )


# --- Family: invitations and grants --------------------------------------------------------


def may_join(case: Case) -> bool:
    """Nobody new joins a case that is closed, withdrawn or declined."""
    return case.status not in FINAL


def is_active_member(case: Case, email: str) -> bool:
    return case.memberships.filter(user__username=email, revoked_at__isnull=True).exists()


def family_members(membership: Membership) -> QuerySet[Membership]:
    """The other active members, as the patient's family page lists them."""
    return (
        membership.case.memberships.filter(revoked_at__isnull=True)
        .exclude(pk=membership.pk)
        .select_related("user")
    )


def family_member(case: Case, username: str) -> Membership:
    """An active member of this case the patient wants to change, or 404."""
    member = (
        case.memberships.filter(user__username=username, revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if member is None:
        raise Http404("No such member")
    return member


def invitation_of(case: Case, public_id: str | None) -> Invitation:
    """One of this case's invitations, or 404."""
    invitation = case.invitations.filter(public_id=public_id).first() if public_id else None
    if invitation is None:
        raise Http404("No such invitation")
    return invitation


def invitation_meant_for_someone_else(public_id: str, user: Person) -> bool:
    """Is a signed-in person opening an invitation addressed to another e-mail address?

    Accepting would sign them in as the invitee and out of their own account (a patient
    trying out the link they sent to their daughter lost their own case that way), and
    would spend the invitation. Unknown invitations are not "someone else's": they get
    the usual invalid-link page.
    """
    if isinstance(user, AnonymousUser):
        return False
    email = Invitation.objects.filter(public_id=public_id).values_list("email", flat=True).first()
    return email is not None and email.lower() != (user.email or "").lower()


def case_joined_through(public_id: str, user: Person) -> Case | None:
    """The case an invitation brought this signed-in person into, if they are still an
    active member of it (so opening the accepted invitation again takes them there)."""
    if isinstance(user, AnonymousUser):
        return None
    return (
        cases_for_member(user)
        .filter(invitations__public_id=public_id, invitations__accepted_at__isnull=False)
        .first()
    )


def case_awaiting_patient_confirmation(ref: str) -> Case:
    """The case a patient's confirmation link names: one a representative made for them
    with their e-mail address; otherwise 404. The link's token (checked by
    ``cases.representatives``) is what proves the person is the patient."""
    canonical = reference.normalise(ref)
    case = (
        Case.objects.filter(pk=canonical, submitted_by_family=True)
        .exclude(patient_email="")
        .first()
        if canonical
        else None
    )
    if case is None:
        raise Http404("No such case")
    return case


def confirmation_meant_for_someone_else(case: Case, user: Person) -> bool:
    """Someone signed in as another person (often the representative, on the same
    computer) is opening the patient's own confirmation link."""
    if isinstance(user, AnonymousUser):
        return False
    return (user.email or "").lower() != case.patient_email.lower()


def access_changeable(membership: Membership) -> bool:
    """The patient's own access (and their representative's) is never changed by others."""
    return not membership.manages_case


def invitation_is_for(invitation: Invitation, user: User | None) -> bool:
    """The invitation link was signed in by the address it was sent to."""
    email = getattr(user, "email", "") if user is not None else ""
    return bool(email) and email.lower() == invitation.email


# --- Consents ------------------------------------------------------------------------------


def active_consent(case: Case, kind: str) -> Consent | None:
    return case.consents.filter(kind=kind, withdrawn_at__isnull=True).first()


def sharing_consent_active(case: Case) -> bool:
    """A partner case file may be made and shared only while this holds."""
    return active_consent(case, ConsentKind.SHARING) is not None


# --- Staff: the coordinator workspace ------------------------------------------------------


def _is_staff(user: Person) -> bool:
    return bool(user.is_active and getattr(user, "is_staff", False))


def sees_every_case(user: Person) -> bool:
    """Managers: every case, and rows that belong to no case (a person's sign-in e-mails)."""
    return _is_staff(user) and _may(user, "cases.view_all_cases")


def works_as_translator(user: Person) -> bool:
    """Translators write the Chinese side and not the English: they reach summaries (and the
    records beside them) of cases in ``TRANSLATABLE`` states, and no case page otherwise."""
    return can_edit_chinese(user) and not can_edit_english(user)


# Release is a two-person decision: the status in which every coordinator may open a case.
OPEN_TO_EVERY_COORDINATOR = Status.REVIEW


def visible_case_q(user: Person, prefix: str = "") -> Q:
    """The cases a staff member may read, ``prefix`` reaching the case from another model.

    Managers: all. Coordinators: their own, unassigned ones (to pick up) and cases in
    review (waiting for a second coordinator's check). Anyone else, translators included:
    none here — translators reach summaries through ``staff_case_for_summary`` and
    ``staff_summary_sections``; the admin's model permissions come on top of this.
    """
    if sees_every_case(user):
        return Q()
    if not (_is_staff(user) and _may(user, "cases.view_case")):
        return Q(**{f"{prefix}pk__in": []})
    # Release is a two-person decision: every coordinator may open a case in review to
    # check it and approve its partner file.
    return (
        Q(**{f"{prefix}assigned_coordinator": user})
        | Q(**{f"{prefix}assigned_coordinator__isnull": True})
        | Q(**{f"{prefix}status": OPEN_TO_EVERY_COORDINATOR})
    )


def open_to_every_coordinator(case: Case) -> bool:
    """Whether any coordinator may open this case now (to check it and approve its file)."""
    return case.status == OPEN_TO_EVERY_COORDINATOR


def staff_cases(user: Person) -> QuerySet[Case]:
    """Every admin page about a case starts from this queryset."""
    return Case.objects.filter(visible_case_q(user))


def staff_summary_sections(user: Person) -> QuerySet[SummarySection]:
    """Coordinators: the cases they may read. Translators: the cases being drafted or
    reviewed (``TRANSLATABLE``, as in ``staff_case_for_summary``).

    The summary admin's own pages and django-simple-history's (history list, one past
    version) all start here.
    """
    sections = SummarySection.objects.all()
    if works_as_translator(user):
        return sections.filter(case__status__in=TRANSLATABLE)
    return sections.filter(visible_case_q(user, "case__"))


def staff_summary_section_by_id(user: Person, object_id: str) -> SummarySection:
    """A section by its admin id, if this person may read it; else 404 (ids are sequential,
    so the answer must not tell which exist)."""
    section = (
        staff_summary_sections(user).filter(pk=object_id).select_related("case").first()
        if str(object_id).isdigit()
        else None
    )
    if section is None:
        raise Http404("No such summary section")
    return section


def may_restore_old_version(user: Person) -> bool:
    """Nobody turns a summary back to an old version in one click: changes go forward
    through the summary editor, with optimistic locking and a history row of their own."""
    return False


def staff_audit_events(user: Person) -> QuerySet[AuditEvent]:
    """Managers read the whole trail; coordinators only the events of cases they may read."""
    events = AuditEvent.objects.all()
    if sees_every_case(user):
        return events
    return events.filter(case__isnull=False).filter(visible_case_q(user, "case__"))


def staff_notifications(user: Person) -> QuerySet[Notification]:
    """The e-mail log names a case, the kind of e-mail and the patient's address: scoped
    like the cases. A person's sign-in e-mails belong to no case: managers only."""
    notifications = Notification.objects.all()
    if sees_every_case(user):
        return notifications
    return notifications.filter(case__isnull=False).filter(visible_case_q(user, "case__"))


def staff_directions(user: Person) -> QuerySet[MedicalDirection]:
    """Directions are reference data, the same for every case and every coordinator."""
    return MedicalDirection.objects.all()


def staff_record(case: Case, public_id: UUID | str) -> Record:
    """A record of a case the staff member already reached through ``staff_cases``."""
    record = Record.objects.filter(case=case, public_id=public_id).first()
    if record is None:
        raise Http404("No such record")
    return record


def staff_summary_section(case: Case, key: str) -> SummarySection:
    """A summary section of a case the staff member already reached through ``staff_cases``."""
    section = SummarySection.objects.filter(case=case, key=key).first()
    if section is None:
        raise Http404("No such section")
    return section


def staff_case_file(case: Case, public_id: UUID | str | None) -> CaseFile:
    """A case file of a case the staff member already reached through ``staff_cases``."""
    case_file = (
        CaseFile.objects.filter(case=case, public_id=public_id).first() if public_id else None
    )
    if case_file is None:
        raise Http404("No such case file")
    return case_file


def staff_partner_copy(case: Case, public_id: UUID | str) -> PartnerCopy:
    """The partner copy of a record of a case already reached through ``staff_cases``."""
    copy = PartnerCopy.objects.filter(record__case=case, record__public_id=public_id).first()
    if copy is None:
        raise Http404("No partner copy for this record yet")
    return copy


def staff_redaction_page(copy: PartnerCopy, number: int) -> RedactionPage:
    page = copy.pages.filter(number=number).first()
    if page is None:
        raise Http404("No such page")
    return page


def can_review_redaction(user: Person) -> bool:
    """Reviewing and approving boxes decides what a partner sees of a record."""
    return _may(user, "cases.change_record")


def can_view_summary(user: Person) -> bool:
    return _may(user, "cases.view_summarysection")


# Translation happens while a case is drafted and reviewed; only then does a translator
# open its summary, and its records beside it (each opening audited by the views).
TRANSLATABLE = frozenset({Status.DRAFTING, Status.REVIEW})


def staff_case_for_summary(user: Person, ref: str) -> Case:
    """The case whose summary (and records) a staff member opens in the summary editor.

    Coordinators and managers: the cases they may read (``staff_cases``). Translators:
    any case being drafted or reviewed — refused (403) otherwise, not told it exists.
    """
    if not works_as_translator(user):
        case = Case.objects.filter(visible_case_q(user), pk=ref).first()
        if case is None:
            raise Http404("No such case")
        if not can_view_summary(user):
            raise PermissionDenied
        return case
    case = Case.objects.filter(pk=ref).first()
    if case is None:
        raise Http404("No such case")
    if case.status not in TRANSLATABLE:
        raise PermissionDenied
    return case


def translation_cases(user: Person) -> QuerySet[Case]:
    """The cases whose Chinese this staff member may write now (their translation queue).

    Translators: every case being drafted or reviewed, as ``staff_case_for_summary`` opens
    them; coordinators: those among the cases they may read; nobody else: none.
    """
    if not can_edit_chinese(user):
        return Case.objects.none()
    cases = Case.objects.filter(status__in=TRANSLATABLE)
    return cases if works_as_translator(user) else cases.filter(visible_case_q(user))


def can_edit_english(user: Person) -> bool:
    """Coordinators write the English summary (and draft it)."""
    return _may(user, "cases.change_summarysection")


def can_edit_chinese(user: Person) -> bool:
    """Translators (and coordinators given the permission) write the Chinese side."""
    return _may(user, "cases.translate_summarysection")


def can_clear_records(user: Person) -> bool:
    """Ticking "checked: no identifiers" on a record lets it into the partner file."""
    return _may(user, "cases.change_record")


def can_reassign(user: Person) -> bool:
    return _may(user, "cases.reassign_case")


def can_move_cases(user: Person) -> bool:
    """Coordinators (and managers) assign cases and move them along; translators do not."""
    return _may(user, "cases.change_case")


def can_export_cases(user: Person) -> bool:
    """Managers export case lists (queue facts only; every export audited)."""
    return _may(user, "cases.export_case")


def may_assign(by: Person, coordinator: User | None, current_id: int | None) -> bool:
    """A coordinator may take an unassigned case; anything else is a manager's decision."""
    if can_reassign(by):
        return True
    return coordinator is not None and coordinator.pk == by.pk and current_id in (None, by.pk)


def assignable_coordinators(by: Person, current_id: int | None) -> QuerySet[User]:
    """Whom the "assigned coordinator" box offers: active staff who coordinate cases
    (coordinators and managers — never a patient, a family member or a translator); for a
    coordinator who cannot reassign, only themselves and whoever has the case now."""
    coordinates = Q(groups__permissions__codename="change_case") | Q(
        user_permissions__codename="change_case"
    )
    staff = (
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .filter(coordinates | Q(is_superuser=True))
        .distinct()
    )
    if not can_reassign(by):
        staff = staff.filter(pk__in=[by.pk, current_id])
    return staff
