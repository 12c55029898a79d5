"""Identifier scanning for the partner file: what in the text it prints may name the
patient, and the coordinator's decisions that a flagged piece may stay."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User

from cases.audit import audit_log
from cases.domain.identifiers import identifiers_in, name_parts
from cases.models import AuditEvent, Case, IdentifierResolution


@dataclass(frozen=True)
class Hit:
    kind: str
    text: str
    section: str


def identifier_scan(case: Case) -> list[Hit]:
    """Possible identifiers in the free text a partner file prints, not yet accepted."""
    accepted = set(case.identifier_resolutions.values_list("text", flat=True))
    names = name_parts([case.patient_name, case.contact_name])
    # Every piece of free text the partner file prints: summary sections, record
    # descriptions (timeline and index) and the reasons given for directions.
    texts: list[tuple[str, str]] = []
    for section in case.summary_sections.all():
        texts += [
            (section.get_key_display(), section.text_en),
            (section.get_key_display(), section.text_zh),
        ]
    texts += [
        ("Record descriptions", d) for d in case.records.values_list("description", flat=True)
    ]
    for rationale, rationale_zh in case.directions.values_list("rationale", "rationale_zh"):
        texts += [("Direction rationales", rationale), ("Direction rationales", rationale_zh)]
    hits: list[Hit] = []
    for where, text in texts:
        if text:
            found = identifiers_in(text, names=names, date_of_birth=case.patient_date_of_birth)
            hits += [Hit(kind, value, where) for kind, value in found if value not in accepted]
    unique: dict[tuple[str, str], Hit] = {}
    for hit in hits:
        unique.setdefault((hit.kind, hit.text), hit)
    return list(unique.values())


def identifier_accept(*, case: Case, text: str, kind: str, by: User) -> None:
    IdentifierResolution.objects.get_or_create(
        case=case, text=text, defaults={"kind": kind, "resolved_by": by}
    )
    audit_log(action=AuditEvent.Action.IDENTIFIER_RESOLVED, actor=by, case=case, kind=kind)
