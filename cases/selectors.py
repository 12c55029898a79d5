"""Read paths for cases. Every lookup on behalf of a person goes through a helper here."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from cases import reference
from cases.consents import LEGAL_AUTHORITIES
from cases.models import Case, CaseFile, CaseOutcome, Membership, Record

# The article's eight questions to ask before a second opinion abroad. The keys are what a
# patient's ticks store, so existing keys never change meaning.
PREPARATION_QUESTIONS: list[tuple[str, str]] = [
    ("diagnosis", "What is my current diagnosis?"),
    ("question", "What exactly do I want a second opinion to answer?"),
    ("records", "Are my medical records complete enough for review?"),
    ("translation", "Do I need translation or a structured case summary?"),
    ("care_plan", "Will this review change my immediate care plan?"),
    ("goal", "Am I looking for information, treatment exploration or travel planning?"),
    ("uk_clinicians", "How will I discuss the results with my UK clinicians?"),
    ("china_pathway", "What happens if a route in China appears relevant?"),
]


def cases_for_member(user) -> QuerySet[Case]:
    if not user.is_authenticated:
        return Case.objects.none()
    return Case.objects.filter(
        memberships__user=user, memberships__revoked_at__isnull=True
    ).distinct()


def memberships_for(user) -> QuerySet[Membership]:
    """The person's current memberships, with their cases, newest case first."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return (
        Membership.objects.filter(user=user, revoked_at__isnull=True)
        .select_related("case")
        .order_by("-case__submitted_at")
    )


def case_has_high_risk_direction(case: Case) -> bool:
    return case.directions.filter(direction__high_risk=True).exists()


def membership_for(user, case: Case) -> Membership | None:
    if not user.is_authenticated:
        return None
    return case.memberships.filter(user=user, revoked_at__isnull=True).first()


def case_for_member(user, ref: str) -> tuple[Case, Membership]:
    """The case with this reference and the user's membership of it, or 404.

    Not a member, revoked, anonymous, or a malformed reference: all the same 404, so the
    answer never tells whether a reference exists.
    """
    canonical = reference.normalise(ref)
    if canonical is None or canonical != ref or not user.is_authenticated:
        raise Http404("No such case")
    membership = (
        Membership.objects.select_related("case")
        .filter(case__reference=canonical, user=user, revoked_at__isnull=True)
        .first()
    )
    if membership is None:
        raise Http404("No such case")
    return membership.case, membership


def case_for_manager(user, ref: str) -> tuple[Case, Membership]:
    """As ``case_for_member``, for pages only the patient (or their representative) uses."""
    case, membership = case_for_member(user, ref)
    if not membership.manages_case:
        raise Http404("No such case")
    return case, membership


def record_for_member(user, ref: str, public_id) -> tuple[Record, Membership]:
    """A record of this case that this member may see, or 404 — whoever is asking."""
    from cases.records import records_visible_to

    _case, membership = case_for_member(user, ref)
    record = records_visible_to(membership).filter(public_id=public_id).first()
    if record is None:
        raise Http404("No such record")
    return record, membership


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


def released_outcome(case: Case) -> CaseOutcome | None:
    return CaseOutcome.objects.filter(case=case, released_at__isnull=False).first()


def released_case_file(case: Case, public_id=None) -> CaseFile | None:
    """The newest internal case file a coordinator released to the patient."""
    files = CaseFile.objects.filter(
        case=case, variant=CaseFile.Variant.INTERNAL, state=CaseFile.State.READY
    ).exclude(released_at=None)
    if public_id is not None:
        files = files.filter(public_id=public_id)
    return files.order_by("-version").first()
