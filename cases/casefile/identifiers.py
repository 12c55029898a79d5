"""Identifier scanning for the partner file's free text, and the coordinator's decisions.

The same detector as the record pages (``cases.domain.identifiers``) runs over every piece
of free text the partner file prints — summary sections in both languages, record
descriptions, direction rationales — and the review outcome, at request, at render and
at approval. A flagged piece is fixed where it stands or marked acceptable with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models

from cases.audit import audit_log
from cases.domain.identifiers import find
from cases.models import (
    AuditEvent,
    Case,
    CaseOutcome,
    IdentifierResolution,
    SummarySection,
)
from cases.records.redaction.selectors import case_identity


@dataclass(frozen=True)
class Hit:
    kind: str
    text: str
    section: str  # where it stands, for people: "Background", "Record descriptions"
    source: str = ""  # where it stands, for the edit form: "record:12:description"


def free_texts(case: Case) -> list[tuple[str, str, str]]:
    """(section, source, text) for every free text the partner file prints."""
    texts: list[tuple[str, str, str]] = []
    for section in case.summary_sections.all():
        label = section.get_key_display()
        texts += [
            (label, f"summary:{section.pk}:text_en", section.text_en),
            (label, f"summary:{section.pk}:text_zh", section.text_zh),
        ]
    texts += [
        ("Record descriptions", f"record:{pk}:description", text)
        for pk, text in case.records.values_list("pk", "description")
    ]
    for pk, rationale, rationale_zh in case.directions.values_list(
        "pk", "rationale", "rationale_zh"
    ):
        texts += [
            ("Direction rationales", f"direction:{pk}:rationale", rationale),
            ("Direction rationales", f"direction:{pk}:rationale_zh", rationale_zh),
        ]
    # The key facts the partner file prints from the enquiry itself.
    texts += [("Key facts", f"case:{case.pk}:{name}", getattr(case, name)) for name in KEY_FACTS]
    outcome = CaseOutcome.objects.filter(case=case).first()
    if outcome is not None:
        texts += [
            ("Review outcome", f"outcome:{outcome.pk}:opinion_summary", outcome.opinion_summary),
            ("Review outcome", f"outcome:{outcome.pk}:next_steps", outcome.next_steps),
        ]
    return texts


def identifier_scan(case: Case) -> list[Hit]:
    """Possible identifiers in the free text a partner file prints, not yet accepted."""
    accepted = set(case.identifier_resolutions.values_list("text", flat=True))
    identity = case_identity(case)
    unique: dict[tuple[str, str], Hit] = {}
    for section, source, text in free_texts(case):
        if not text:
            continue
        for hit in find(text, identity):
            if hit.text not in accepted:
                unique.setdefault((hit.kind, hit.text), Hit(hit.kind, hit.text, section, source))
    return list(unique.values())


def identifier_accept(*, case: Case, text: str, kind: str, by: User, reason: str = "") -> None:
    """Mark a flagged piece of text as acceptable, with the coordinator's reason."""
    if not reason.strip():
        raise ValidationError("Say why this text does not identify the patient.")
    IdentifierResolution.objects.get_or_create(
        case=case, text=text, defaults={"kind": kind, "resolved_by": by, "reason": reason}
    )
    audit_log(action=AuditEvent.Action.IDENTIFIER_RESOLVED, actor=by, case=case, kind=kind)


KEY_FACTS = ("current_medicines", "allergies", "other_conditions")

_EDITABLE = {
    "case": ("", set(KEY_FACTS)),
    "summary": ("summary_sections", {"text_en", "text_zh"}),
    "record": ("records", {"description"}),
    "direction": ("directions", {"rationale", "rationale_zh"}),
    "outcome": (None, {"opinion_summary", "next_steps"}),
}


def free_text_of(case: Case, source: str) -> str:
    obj, field = _editable(case, source)
    return getattr(obj, field)


def flagged_summary_text(case: Case, source: str) -> tuple[SummarySection, str] | None:
    """The summary section and side a scan hit points at, or None for any other text.

    A summary section is not fixed by ``identifier_fix``: it goes through the summary's
    own save (``cases.summary.services``) so its version, editor, history and the
    Chinese side's state follow the edit, as the approval checks expect.
    """
    if not source.startswith("summary:"):
        return None
    section, field = _editable(case, source)
    assert isinstance(section, SummarySection)
    return section, field


def identifier_fix(*, case: Case, source: str, text: str, by: User) -> None:
    """Replace a flagged free text where it stands (a record's description, a rationale)."""
    if source.startswith("summary:"):
        raise ValidationError("A summary section is edited through the summary.")
    obj, field = _editable(case, source)
    max_length = getattr(type(obj)._meta.get_field(field), "max_length", None)
    if max_length and len(text) > max_length:
        raise ValidationError(f"That text is too long: at most {max_length} characters.")
    setattr(obj, field, text)
    obj.save(update_fields=[field])
    audit_log(
        action=AuditEvent.Action.IDENTIFIER_RESOLVED,
        actor=by,
        case=case,
        target=source,
        edited=True,
    )


def _editable(case: Case, source: str) -> tuple[models.Model, str]:
    """The object and field a scan hit points at, only ever within this case."""
    try:
        kind, pk, field = source.split(":")
        related, fields = _EDITABLE[kind]
    except (ValueError, KeyError) as error:
        raise ValidationError("That text cannot be edited here.") from error
    if field not in fields:
        raise ValidationError("That text cannot be edited here.")
    obj: models.Model | None
    if kind == "case":
        obj = case if pk == str(case.pk) else None
    elif related is None:
        obj = CaseOutcome.objects.filter(case=case, pk=pk).first()
    else:
        obj = getattr(case, related).filter(pk=pk).first()
    if obj is None:
        raise ValidationError("That text is no longer there.")
    return obj, field
