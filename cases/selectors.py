"""Case-level reads that are not access rules (those live in ``cases.access``)."""

from __future__ import annotations

from cases.models import Case


def case_has_high_risk_direction(case: Case) -> bool:
    """A confirmed direction carries eligibility caveats (CAR-T, stem cells, ...)."""
    return case.directions.filter(direction__high_risk=True).exists()
