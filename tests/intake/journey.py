"""The answers a patient gives, step by step, for tests that walk the wizard."""

from __future__ import annotations

from datetime import date, timedelta

ANSWERS: dict[str, dict[str, str]] = {
    "who": {"filling_in_for": "self"},
    "contact": {
        "contact_name": "Zoë Ōkafor-李",
        "contact_email": "zoe@example.org",
        "contact_phone": "07911 123456",
        "preferred_contact": "email",
        "contact_times": "Mornings",
    },
    "patient": {
        "patient_name": "Zoë Ōkafor-李",
        "patient_date_of_birth": "1968-02-29",
        "nhs_number": "943 476 5919",
        "current_provider": "Leeds Teaching Hospitals",
    },
    "medical": {
        "medical_area": "cancer",
        "diagnosis": "Glioblastoma, diagnosed in March 🙏",
        "treatment_so_far": "Surgery and radiotherapy",
        "treatment_plan": "Temozolomide",
        "worries": "Whether anything else is possible",
    },
    "question": {
        "questions": "Is a second resection possible?\nAre there trials I could join?",
        "goal": "treatment",
        "decision_deadline": (date.today() + timedelta(days=40)).isoformat(),
        "language": "English",
        "interpretation_needs": "",
    },
    "consent": {"consent_processing": "on", "consent_boundaries": "on"},
}


def walk_wizard(client, answers: dict[str, dict[str, str]] | None = None):
    """Pass the safety check and every step; return the last response (the review page)."""
    answers = answers or ANSWERS
    client.post("/start/", {"urgent": "no"})
    response = None
    for slug, data in answers.items():
        response = client.post(f"/start/{slug}/", data, follow=True)
        assert response.status_code == 200, (slug, response.status_code)
    return response
