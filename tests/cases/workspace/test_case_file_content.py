"""What the case file prints: the coordinator's timeline, records in document-date order
(undated last), key facts, directions in both languages, and "nothing missing"."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from pypdf import PdfReader

from cases.casefile import render as casefile
from cases.models import CaseDirection, MedicalDirection, SummarySection, TextState
from cases.records import processing
from cases.records import services as records
from cases.summary import services as summary
from tests.factories import patient_case, staff_in
from tests.records_support import pdf_bytes

pytestmark = pytest.mark.django_db


def _flat_text(path: Path) -> str:
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.split())


def test_the_file_prints_the_timeline_key_facts_and_bilingual_directions(tmp_path):
    coordinator = staff_in("coordinator")
    case, _ = patient_case(
        sex="female",
        current_medicines="Letrozole 2.5 mg daily",
        allergies="Penicillin",
        other_conditions="Type 2 diabetes",
        diagnosis="Relapsed diffuse large B-cell lymphoma",
    )
    for marker, day, text in [
        ("undated", None, "Letter from the GP"),
        ("late", date(2026, 3, 1), "PET-CT report"),
        ("early", date(2025, 6, 2), "Biopsy report"),
    ]:
        record = records.record_add(
            case=case,
            file=ContentFile(pdf_bytes(pages=1, marker=marker), name=f"{marker}.pdf"),
            category="pathology",
            document_date=day,
            description=text,
            run_checks=False,
        ).record
        processing.record_process(record_id=record.pk)
    summary.summary_draft(case=case, by=coordinator)
    SummarySection.objects.filter(case=case, key="timeline").update(
        text_en="June 2025: biopsy. March 2026: relapse on PET-CT.",
        text_zh="2025年6月：活检。2026年3月：PET-CT显示复发。",
        state_zh=TextState.REVIEWED,
    )
    SummarySection.objects.filter(case=case, key="records_missing").update(text_en="", text_zh="")
    car_t = MedicalDirection.objects.get(name_en="CAR-T cell therapy")
    CaseDirection.objects.create(
        case=case,
        direction=car_t,
        rationale="Relapse after two lines.",
        rationale_zh="两线治疗后复发。",
    )
    output = tmp_path / "internal.pdf"

    casefile.case_file_build(case, "internal", output)

    text = _flat_text(output)
    assert "March 2026: relapse on PET-CT." in text  # the coordinator's timeline
    assert "Record dates" in text
    assert "Letrozole 2.5 mg daily" in text and "Penicillin" in text and "Female" in text
    assert "两线治疗后复发。" in text and "可能有助于" in text and "注意" in text
    assert "Nothing missing." in text
    index = text[text.index("Records index") :]
    assert (
        index.index("Biopsy report")
        < index.index("PET-CT report")
        < index.index("Letter from the GP")
    )
    titles = [item.title for item in PdfReader(output).outline if hasattr(item, "title")]
    assert "Record 1: Pathology or biopsy report · 病理或活检报告 (2025-06-02)" in titles
    assert "Record 3: Pathology or biopsy report · 病理或活检报告 (undated)" in titles


def test_the_drafted_timeline_lists_undated_records_last():
    coordinator = staff_in("coordinator")
    case, _ = patient_case()
    for marker, day in [("undated", None), ("dated", date(2026, 1, 5))]:
        records.record_add(
            case=case,
            file=ContentFile(pdf_bytes(marker=marker), name=f"{marker}.pdf"),
            category="diagnosis_letter",
            document_date=day,
            description=f"{marker} letter",
            run_checks=False,
        )
    summary.summary_draft(case=case, by=coordinator)
    timeline = SummarySection.objects.get(case=case, key="timeline").text_en
    assert timeline.splitlines() == [
        "2026-01-05 — Diagnosis or clinic letter: dated letter",
        "Undated — Diagnosis or clinic letter: undated letter",
    ]
