"""The translation memory and the term list grow as translators work, and never keep
anything that could identify a patient."""

from __future__ import annotations

import pytest

from cases.domain.workflow import Status
from cases.models import MedicalDirection, MedicalTerm, SummarySection, TextState, TranslationUnit
from cases.summary import services as summary
from cases.summary import translation
from tests.factories import patient_case, staff_in

pytestmark = pytest.mark.django_db


def _review(section, text_en, text_zh, by):
    return summary.summary_section_save(
        section=section,
        edit=summary.SectionEdit(
            text_en, TextState.REVIEWED, text_zh, TextState.REVIEWED, section.version
        ),
        by=by,
    )


def test_reviewed_sentences_become_suggestions_for_the_next_case():
    coordinator = staff_in("coordinator")
    first, _ = patient_case(status=Status.DRAFTING)
    section = SummarySection.objects.create(case=first, key="background")
    _review(
        section,
        "She completed six cycles of chemotherapy. The tumour shrank by half.",
        "她完成了六个周期的化疗。肿瘤缩小了一半。",
        coordinator,
    )

    suggestions = translation.suggestions_for(
        "She completed six cycles of chemotherapy. The tumour shrank by a third."
    )

    by_origin = {(s.target, s.origin) for s in suggestions}
    assert ("她完成了六个周期的化疗。", "memory, exact") in by_origin
    assert any(t == "肿瘤缩小了一半。" and o.startswith("memory, ") for t, o in by_origin)
    assert ("化疗", "term list") in by_origin


def test_sentences_that_could_identify_the_patient_are_not_remembered():
    coordinator = staff_in("coordinator")
    case, _ = patient_case(status=Status.DRAFTING, patient_name="Zara Quintrell")
    section = SummarySection.objects.create(case=case, key="background")
    _review(
        section,
        "Zara Quintrell was seen in clinic. Her NHS number is 943 476 5919. Scans were clear.",
        "Zara Quintrell到门诊就诊。她的NHS号码是943 476 5919。扫描结果正常。",
        coordinator,
    )

    remembered = list(TranslationUnit.objects.values_list("source", flat=True))
    assert remembered == ["Scans were clear."]


def test_translators_add_terms_and_the_directions_names_agree_with_the_term_list(staff_login):
    translator = staff_in("translator")
    client = staff_login(translator)
    response = client.post(
        "/admin/cases/medicalterm/add/", {"en": "pembrolizumab", "zh": "帕博利珠单抗", "note": ""}
    )
    assert response.status_code == 302
    assert MedicalTerm.objects.get(en="pembrolizumab").zh == "帕博利珠单抗"
    for direction in MedicalDirection.objects.all():
        assert MedicalTerm.objects.get(en=direction.name_en).zh == direction.name_zh
