"""Case-file benchmark: time and peak memory of ``case_file_build`` on a large case.

What it does
    1. Setup (not timed against the target). In a temporary directory: a throw-away SQLite
       database (``DATABASE_URL``), ``MEDCHINA_VAR_DIR`` and private storage, the in-memory
       Celery broker and ``DJANGO_DEBUG=false``; ``migrate``; a case with its patient
       membership and a staff user in the "coordinator" group. Then the inputs, made here:
       * 10 record PDFs of 20 A4 pages each, every page ~55 lines of Helvetica text
         (pikepdf content streams, distinct per file);
       * 20 photo-like 12-megapixel JPEGs (4032 x 3024, quality 90: gradients, texture and
         sensor grain made with numpy);
       each added as the patient with ``records.record_add(..., run_checks=False)`` and then
       checked for real with ``processing.record_process`` (PDF cleaning + first-page render,
       photo decode + clean re-encode + thumbnail + page image), so the build reads real
       derivatives.
       Then ``summary.summary_draft`` and, as the coordinator, ``summary_section_save``
       of all 7 sections with mixed English / Simplified Chinese paragraphs
       (``--paragraphs`` per side and section, tuned so that the summary and index part of
       the file — cover, contents, sections, timeline, directions, records index — comes
       to about 30 pages), and three confirmed China medical directions.
    2. Each measured run is a fresh Python subprocess (Django set up first, not counted)
       that builds ``case_file_build(case, "internal", out)`` once (timed with the import
       of the render module and WeasyPrint, as a fresh worker pays it; peak memory and the
       time by phase come from this build), then, with nothing wrapped any more, three
       rounds of: WeasyPrint alone on the HTML documents that first build gave it ("the
       same HTML", photos included), and a warm build. Peak memory is the process's peak
       RSS (``VmHWM``, Django and all imports included) and, separately, the peak RSS of
       the qpdf process the build runs (through GNU time).
    3. In the same run, ``qpdf --empty --pages <the 10 record derivative PDFs> -- out.pdf``
       (the plain merge of the same PDFs, copied out of private storage through the storage
       API): one warm-up, one right after each run, at least 5 in all, timed as process
       wall time; its peak RSS once through GNU time.
    4. Prints machine info, page counts, each run with the load average at its start, the
       phases, the plain merge, and ends with ``build/(weasyprint+merge): R``: the best warm
       build over the best WeasyPrint-alone plus the best plain merge (on a shared machine
       the least disturbed sample is closest to the work's own cost; the ratio of the
       medians is printed too); target R <= 1.2, i.e. the photos cost nothing at build
       time. With ``--profile``, one more build under cProfile (not counted) prints where
       the time goes.
    5. With ``--scaling``, before that last line, a Markdown table of time and peak memory
       for 50 / 200 / 1,000 / 2,000 record pages (typed letters of 50 pages, checked for
       real), 5 / 20 / 80 / 160 photos of 12 MP (the main case's 20 checked photos, rows
       repeated) and 160 / 480 / 750 MB of scanned PDFs (200 dpi noise JPEG pages of
       ~2.6 MB, stored as the checks would leave them), each one build in a fresh process
       with the load average at its start.

How to run (from the project root)
    .venv/bin/python bench/case_file.py
    .venv/bin/python bench/case_file.py --runs 2 --profile
    .venv/bin/python bench/case_file.py --paragraphs 6     # a shorter summary
    .venv/bin/python bench/case_file.py --scaling          # and the scaling table

The run is bounded (``--time-limit`` seconds, default 1800) and always removes its
temporary directory (database, records, outputs).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.metadata
import io
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
# Python puts this file's folder first on sys.path, where bench/queue.py would shadow the
# standard library's ``queue`` (needed by concurrent.futures, hence Django): swap it for the
# project root.
if sys.path and Path(sys.path[0] or ".").resolve() == BASE_DIR / "bench":
    sys.path[0] = str(BASE_DIR)
elif str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

MIB = 1024 * 1024
RATIO_TARGET = 1.2  # build / (WeasyPrint alone + plain merge): photos cost nothing
PDF_RECORDS = 10
PDF_PAGES = 20
PHOTOS = 20
PHOTO_SIZE = (4032, 3024)
DEFAULT_PARAGRAPHS = 11  # per side (English, Chinese) and section: about 30 summary+index pages
RESULT_MARK = "CASEFILE-BENCH-RESULT "
QPDF_RUNS = 5  # at least; one after each build, the rest after the last
WARM_ROUNDS = 3  # per process, after the first build: WeasyPrint alone, then a build

ENGLISH = [
    "The patient was first seen by the colorectal team after a change in bowel habit "
    "lasting several months, with intermittent rectal bleeding and weight loss of 6 kg.",
    "Colonoscopy showed a circumferential lesion in the sigmoid colon; biopsies confirmed a "
    "moderately differentiated adenocarcinoma, mismatch-repair proficient.",
    "Staging CT of the chest, abdomen and pelvis showed two indeterminate liver lesions, "
    "the larger 14 mm in segment VI, and no lung metastases.",
    "MRI of the liver characterised both lesions as probable metastases; the "
    "multidisciplinary team recommended neoadjuvant chemotherapy before any surgery.",
    "She received six cycles of FOLFOX with bevacizumab, complicated by grade 2 peripheral "
    "neuropathy and one admission for neutropenic sepsis that resolved with antibiotics.",
    "Interval imaging showed a partial response in the primary tumour and stable liver "
    "disease, with a fall in CEA from 48 to 9 micrograms per litre.",
    "The hepatobiliary surgeons considered a two-stage resection but were concerned about "
    "the future liver remnant and asked for portal vein embolisation to be discussed.",
    "Her performance status is ECOG 1; she walks two miles a day and continues to work "
    "part-time, and her renal and liver function tests are within normal limits.",
    "Current medication: amlodipine 5 mg daily, omeprazole 20 mg daily, and pregabalin for "
    "neuropathic pain; she has no known drug allergies.",
    "The family would like to know whether an experienced centre in China would offer a "
    "different surgical plan, or a trial of an additional systemic treatment.",
    "Genetic testing of the tumour found a KRAS G12D mutation, no BRAF mutation, and no "
    "HER2 amplification; germline testing for Lynch syndrome was negative.",
    "The most recent PET-CT, three weeks ago, showed no new disease outside the liver and "
    "low-grade uptake at the primary site, consistent with treatment response.",
]
CHINESE = [
    "患者数月来排便习惯改变，间断便血，体重下降6公斤，首诊于结直肠外科。",
    "结肠镜检查见乙状结肠环周病变，活检病理证实为中分化腺癌，错配修复功能完整。",
    "胸腹盆增强CT分期检查示肝内两处性质待定病灶，较大者位于第六段，直径14毫米，未见肺转移。",
    "肝脏磁共振提示两处病灶均考虑转移；多学科团队建议先行新辅助化疗，再评估手术。",
    "患者接受六个周期FOLFOX联合贝伐珠单抗治疗，期间出现二级周围神经病变，并因中性粒细胞减少性发热住院一次，经抗生素治疗后好转。",
    "复查影像显示原发肿瘤部分缓解，肝脏病灶稳定，癌胚抗原由每升48微克降至9微克。",
    "肝胆外科考虑分期肝切除，但担心剩余肝体积不足，建议讨论门静脉栓塞术。",
    "目前体能状态评分为一级，每天步行约三公里，仍兼职工作，肝肾功能检查均在正常范围。",
    "目前用药：氨氯地平每日5毫克，奥美拉唑每日20毫克，普瑞巴林用于神经病理性疼痛；无已知药物过敏。",
    "家属希望了解中国有经验的医疗中心是否会提出不同的手术方案，或建议参加其他全身治疗的临床试验。",
    "肿瘤基因检测发现KRAS G12D突变，无BRAF突变，无HER2扩增；林奇综合征胚系检测阴性。",
    "三周前最近一次PET-CT未见肝外新发病灶，原发部位轻度摄取，符合治疗后反应。",
]
RECORD_LINES = [
    "Patient reviewed in the outpatient clinic with a relative present.",
    "Observations: BP 128/76, HR 72 regular, SpO2 98% on air, temperature 36.7 C.",
    "Full blood count: Hb 118 g/L, WCC 5.2, neutrophils 3.1, platelets 224.",
    "Biochemistry: sodium 139, potassium 4.2, urea 5.1, creatinine 71, eGFR > 90.",
    "Liver function: bilirubin 9, ALT 24, ALP 98, albumin 39 g/L.",
    "Tumour markers: CEA 9.0 ug/L (previously 48.0), CA 19-9 31 U/mL.",
    "Imaging reviewed at the MDT: partial response of the primary, liver stable.",
    "Plan: continue current treatment, repeat imaging in 8 weeks, review in clinic.",
    "Medication reconciled with the GP record; no changes made today.",
    "Patient given written information and the clinical nurse specialist contact number.",
]


# --- Small helpers -------------------------------------------------------------------------


def mib(kib: float) -> float:
    return kib / 1024.0


def proc_status_kib(field_name: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field_name}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def version_of(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def first_line(command: Sequence[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)
    except OSError:
        return "unavailable"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


class TimeLimitReached(Exception):
    """Raised by SIGALRM when the whole run passes --time-limit."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise TimeLimitReached


# --- Inputs ----------------------------------------------------------------------------------


def make_record_pdf(number: int, pages: int = PDF_PAGES) -> bytes:
    """An A4 PDF (20 pages unless told), each page ~55 lines of Helvetica text, distinct
    per ``number``."""
    import pikepdf

    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    for page_number in range(1, pages + 1):
        lines = [
            f"Leeds Teaching Hospitals - clinical record {number}, page {page_number}",
            f"Document {number:02d}-{page_number:02d}  Clinic letter and results",
            "",
        ]
        for index in range(52):
            line = RECORD_LINES[(index + number + page_number) % len(RECORD_LINES)]
            lines.append(f"{index + 1:02d}. {line}")
        body = b"".join(
            b"(" + line.encode("cp1252").replace(b"(", b"\\(").replace(b")", b"\\)") + b") Tj T*\n"
            for line in lines
        )
        stream = (
            b"q 0.2 0.3 0.6 RG 1 w 56 800 m 539 800 l S Q\n"
            b"BT /F1 9.5 Tf 13.2 TL 56 785 Td\n" + body + b"ET\n"
        )
        page = pdf.add_blank_page(page_size=(595, 842))
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(stream)
    pdf.docinfo["/Title"] = f"Bench record {number}"
    out = io.BytesIO()
    pdf.save(out, compress_streams=True)
    return out.getvalue()


class PhotoMaker:
    """Photo-like 12-megapixel JPEGs: light gradients, waves, texture and sensor grain."""

    def __init__(self, size: tuple[int, int] = PHOTO_SIZE) -> None:
        import numpy as np
        from PIL import Image

        self.np = np
        self.width, self.height = size
        self.rng = np.random.default_rng(20260601)
        self.x = np.linspace(0.0, 1.0, self.width, dtype=np.float32)[None, :]
        self.y = np.linspace(0.0, 1.0, self.height, dtype=np.float32)[:, None]
        # One grain field (the costly part), shifted differently for every photo.
        self.grain = self.rng.standard_normal((self.height, self.width), dtype=np.float32) * 5.0
        texture = Image.fromarray(self.rng.integers(0, 256, (96, 128), dtype=np.uint8))
        texture = texture.resize((self.width, self.height), Image.Resampling.BICUBIC)
        self.texture = (np.asarray(texture, dtype=np.float32) - 128.0) * 0.25

    def jpeg(self, number: int) -> bytes:
        from PIL import Image

        np = self.np
        channels = []
        for channel in range(3):
            fx, fy = self.rng.uniform(1.0, 4.0), self.rng.uniform(1.0, 3.0)
            phase = self.rng.uniform(0.0, 6.28)
            light = 150.0 - 70.0 * self.y + 25.0 * self.x * (channel - 1)
            waves = 35.0 * np.sin(2 * np.pi * fx * self.x + phase) * np.cos(2 * np.pi * fy * self.y)
            grain = np.roll(self.grain, (number * 97 + channel * 31, number * 53), axis=(0, 1))
            channels.append(np.clip(light + waves + self.texture + grain, 0, 255).astype(np.uint8))
        image = Image.fromarray(np.dstack(channels), "RGB")
        exif = Image.Exif()
        exif[0x010F] = "BenchCam"  # Make
        exif[0x0110] = f"Model 12MP #{number}"  # Model
        exif[0x0112] = 1  # Orientation: upright
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90, exif=exif)
        return out.getvalue()


def summary_text(key: str, paragraphs: int, sentences: list[str], joiner: str) -> str:
    import numpy as np

    rng = np.random.default_rng(zlib.crc32(f"{key}/{joiner}".encode()))
    out = []
    for _ in range(paragraphs):
        count = int(rng.integers(4, 8))
        picked = rng.choice(len(sentences), size=count, replace=False)
        out.append(joiner.join(sentences[int(i)] for i in picked))
    return "\n\n".join(out)


@dataclass
class Setup:
    case_reference: str
    pdf_paths: list[Path]
    photo_count: int
    pdf_bytes: int
    photo_bytes: int
    seconds: dict[str, float] = field(default_factory=dict)


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medchina.settings")
    import django

    django.setup()


def copy_out(stored: Any, target: Path) -> Path:
    """A stored file copied to a local path through the storage API (storage may be S3)."""
    with stored.open("rb") as source, target.open("wb") as out:
        shutil.copyfileobj(source, out, length=MIB)
    return target


def seed(paragraphs: int, inputs: Path) -> Setup:
    """Migrate, then make the case, its records (really checked) and its summary; the
    record PDFs the build merges are copied to ``inputs`` for the plain qpdf merge."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from cases.models import (
        Case,
        CaseDirection,
        Goal,
        MedicalArea,
        MedicalDirection,
        Membership,
        Record,
        SummarySection,
    )
    from cases.people import user_get_or_create_for_email
    from cases.records import processing
    from cases.records import services as records
    from cases.summary import services as summary

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    seconds["migrate"] = time.perf_counter() - started

    email = "bench-patient@example.org"
    case = Case.objects.create(
        contact_name="Bench Patient",
        contact_email=email,
        contact_phone="+447700900123",
        patient_name="Bench Patient",
        patient_date_of_birth=date(1961, 4, 12),
        nhs_number="9434765919",
        current_provider="Leeds Teaching Hospitals NHS Trust",
        medical_area=MedicalArea.CANCER,
        diagnosis="Sigmoid adenocarcinoma with two liver metastases",
        treatment_so_far="Six cycles of FOLFOX with bevacizumab",
        worries="Whether liver surgery is still possible",
        questions=["Is a one-stage resection possible?", "Is there a suitable trial?"],
        goal=Goal.INFORMATION,
    )
    patient = user_get_or_create_for_email(email=email, name="Bench Patient")
    Membership.objects.create(
        case=case, user=patient, role=Membership.Role.PATIENT, can_view_all_records=True
    )
    coordinator = get_user_model().objects.create_user(
        username="bench-coordinator", email="coordinator@example.org", is_staff=True
    )
    coordinator.groups.add(Group.objects.get(name="coordinator"))

    categories = ["lab", "imaging_report", "pathology", "diagnosis_letter", "discharge"]
    day = date(2025, 1, 6)
    pdf_total = photo_total = 0
    generate = process = 0.0
    for number in range(1, PDF_RECORDS + 1):
        t0 = time.perf_counter()
        content = make_record_pdf(number)
        t1 = time.perf_counter()
        pdf_total += len(content)
        added = records.record_add(
            case=case,
            file=ContentFile(content, name=f"record-{number:02d}.pdf"),
            category=categories[number % len(categories)],
            uploaded_by=patient,
            document_date=day + timedelta(days=11 * number),
            description=f"Clinic letter and results, visit {number} · 门诊记录 {number}",
            run_checks=False,
        )
        assert added.record is not None, added.error
        processing.record_process(record_id=added.record.pk)
        generate += t1 - t0
        process += time.perf_counter() - t1
    maker = PhotoMaker()
    for number in range(1, PHOTOS + 1):
        t0 = time.perf_counter()
        content = maker.jpeg(number)
        t1 = time.perf_counter()
        photo_total += len(content)
        added = records.record_add(
            case=case,
            file=ContentFile(content, name=f"IMG_{4000 + number}.jpg"),
            category="other",
            uploaded_by=patient,
            document_date=day + timedelta(days=7 * number + 3),
            description=f"Photo of a printed letter, page {number}",
            run_checks=False,
        )
        assert added.record is not None, added.error
        processing.record_process(record_id=added.record.pk)
        generate += t1 - t0
        process += time.perf_counter() - t1
    seconds["generate inputs"] = generate
    seconds["record_add + record_process"] = process

    ready = list(case.records.filter(state=Record.State.READY).order_by("document_date"))
    rejected = case.records.exclude(state=Record.State.READY).count()
    assert not rejected, f"{rejected} record(s) were not made ready by the checks"
    inputs.mkdir(parents=True, exist_ok=True)
    pdf_paths = [
        copy_out(r.derivative, inputs / f"record-{r.pk}.pdf")
        for r in ready
        if r.derivative_type == "application/pdf"
    ]
    photos = sum(r.derivative_type == "image/jpeg" for r in ready)
    assert len(pdf_paths) == PDF_RECORDS and photos == PHOTOS, (len(pdf_paths), photos)

    t0 = time.perf_counter()
    summary.summary_draft(case=case, by=coordinator)
    for section in SummarySection.objects.filter(case=case):
        english = summary_text(section.key, paragraphs, ENGLISH, " ")
        chinese = summary_text(section.key, paragraphs, CHINESE, "")
        summary.summary_section_save(
            section=section,
            edit=summary.SectionEdit(
                f"{section.text_en}\n\n{english}".strip(),
                "draft",
                f"{section.text_zh}\n\n{chinese}".strip(),
                "draft",
                section.version,
            ),
            by=coordinator,
        )
    for direction in MedicalDirection.objects.order_by("pk")[:3]:
        CaseDirection.objects.create(
            case=case,
            direction=direction,
            rationale="Suggested by the area and the questions; confirmed at triage.",
            confirmed_by=coordinator,
        )
    seconds["summary + directions"] = time.perf_counter() - t0
    return Setup(case.reference, pdf_paths, photos, pdf_total, photo_total, seconds)


# --- Scaling: cases of growing size, from records already checked ---------------------------

SCALING_PAGES = (50, 200, 1000, 2000)  # record pages of typed letters
SCALING_PHOTOS = (5, 20, 80, 160)  # 12 MP photos
SCALING_SCANS_MB = (160, 480, 750)  # megabytes of scanned PDFs
TEXT_RECORD_PAGES = 50
SCAN_RECORD_MB = 80
SCAN_PAGE_SIZE = (1654, 2339)  # A4 at 200 dpi


def bench_case(label: str) -> Any:
    from cases.models import Case, Goal, MedicalArea

    return Case.objects.create(
        contact_name="Bench Patient",
        contact_email=f"bench-{label}@example.org",
        contact_phone="+447700900123",
        patient_name="Bench Patient",
        patient_date_of_birth=date(1961, 4, 12),
        nhs_number="9434765919",
        current_provider="Leeds Teaching Hospitals NHS Trust",
        medical_area=MedicalArea.CANCER,
        diagnosis="Sigmoid adenocarcinoma with two liver metastases",
        goal=Goal.INFORMATION,
    )


def clone_records(pool: list[Any], count: int, case: Any) -> None:
    """``count`` records on ``case`` that share the pool's stored (checked) files: rows of
    their own, files made once. Every clone has its own public id, so WeasyPrint sees
    distinct images, as with distinct photos."""
    import uuid

    day = date(2025, 1, 6)
    for number in range(count):
        record = pool[number % len(pool)]
        record.pk = None
        record.id = None
        record.public_id = uuid.uuid4()
        record.sha256 = f"{record.public_id.int:064x}"  # unique on the case, as uploads are
        record.case = case
        record.document_date = day + timedelta(days=number)
        record.save()


def scan_pdf(pages: int, page_jpeg: bytes) -> bytes:
    """A PDF of full-page scans: every page its own copy of a noisy 200 dpi JPEG."""
    import pikepdf

    pdf = pikepdf.new()
    width, height = SCAN_PAGE_SIZE
    for _ in range(pages):
        page = pdf.add_blank_page(page_size=(595, 842))
        image = pdf.make_stream(page_jpeg)
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height, image.BitsPerComponent = width, height, 8
        image.ColorSpace, image.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        page.obj.Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@dataclass
class ScalingCase:
    kind: str  # "pages", "photos", "scans"
    size: int
    reference: str
    record_bytes: int = 0


def seed_scaling(main_reference: str, work: Path) -> tuple[list[ScalingCase], dict[str, float]]:
    """Cases for the scaling table. Typed-letter PDFs (50 pages each) are added and checked
    for real once; the photos are the main case's 20, checked for real there; the scans are
    stored as the checks would leave them (a clean PDF and its page count: checking 750 MB
    would only time the checks). Larger cases share the smaller ones' stored files."""

    import numpy as np
    from django.core.files import File
    from django.core.files.base import ContentFile
    from PIL import Image

    from cases.models import Case, Record
    from cases.records import processing
    from cases.records import services as records

    seconds: dict[str, float] = {}
    cases: list[ScalingCase] = []

    t0 = time.perf_counter()
    pool_case = bench_case("letters")
    letters = []
    for number in range(1, max(SCALING_PAGES) // TEXT_RECORD_PAGES + 1):
        added = records.record_add(
            case=pool_case,
            file=ContentFile(make_record_pdf(number, TEXT_RECORD_PAGES), name=f"l{number}.pdf"),
            category="lab",
            description=f"Clinic letters, part {number}",
            run_checks=False,
        )
        assert added.record is not None, added.error
        processing.record_process(record_id=added.record.pk)
        letters.append(Record.objects.get(pk=added.record.pk))
    assert all(r.state == Record.State.READY for r in letters)
    for pages in SCALING_PAGES:
        case = bench_case(f"pages-{pages}")
        clone_records(letters, pages // TEXT_RECORD_PAGES, case)
        cases.append(ScalingCase("pages", pages, case.reference))
    seconds["letters"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    main = Case.objects.get(reference=main_reference)
    photos = list(main.records.ready().filter(derivative_type="image/jpeg").order_by("pk"))
    for count in SCALING_PHOTOS:
        case = bench_case(f"photos-{count}")
        clone_records(photos, count, case)
        cases.append(ScalingCase("photos", count, case.reference))
    seconds["photos"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rng = np.random.default_rng(20260602)
    width, height = SCAN_PAGE_SIZE
    noise = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise, "RGB").save(out, "JPEG", quality=80)
    page_jpeg = out.getvalue()
    scan_case = bench_case("scans")
    scans: list[Any] = []
    stored_mb = 0.0
    target = max(SCALING_SCANS_MB)
    while stored_mb < target - 0.5:
        megabytes = min(SCAN_RECORD_MB, target - stored_mb)
        pages = max(1, round(megabytes * 1e6 / len(page_jpeg)))
        path = work / "scan.pdf"
        path.write_bytes(scan_pdf(pages, page_jpeg))
        size = path.stat().st_size
        record = Record(
            case=scan_case,
            category="imaging_report",
            original_name=f"scan-{len(scans) + 1}.pdf",
            size=size,
            sha256=f"{len(scans):064x}",  # identical scans: unique on the case all the same
            sniffed_type="application/pdf",
            derivative_type="application/pdf",
            page_count=pages,
            state=Record.State.READY,
        )
        with path.open("rb") as handle:
            record.original.save("original.pdf", File(handle), save=False)
        record.derivative = record.original.name
        record.save()
        path.unlink()
        scans.append(record)
        stored_mb += size / 1e6
    sizes = [r.size for r in scans]
    for megabytes in SCALING_SCANS_MB:
        count = next(i for i in range(1, len(sizes) + 1) if sum(sizes[:i]) / 1e6 >= megabytes - 0.5)
        case = bench_case(f"scans-{megabytes}")
        clone_records(list(scans), count, case)
        cases.append(ScalingCase("scans", megabytes, case.reference, sum(sizes[:count])))
    seconds["scans"] = time.perf_counter() - t0
    return cases, seconds


# --- The child: one build, measured ---------------------------------------------------------


class Phases:
    """Time and peak RSS per phase; VmHWM is reset at every boundary (clear_refs 5)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.peak_kib: dict[str, int] = defaultdict(int)
        self.calls: dict[str, int] = defaultdict(int)
        self.stack: list[str] = ["startup"]
        self.since = time.perf_counter()
        self.can_reset = True
        self.wrapped: list[tuple[Any, str, Any]] = []

    def _boundary(self) -> None:
        label = self.stack[-1]
        now = time.perf_counter()
        self.seconds[label] += now - self.since
        self.since = now
        self.peak_kib[label] = max(self.peak_kib[label], proc_status_kib("VmHWM"))
        if self.can_reset:
            try:
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                self.can_reset = False

    @contextlib.contextmanager
    def phase(self, label: str) -> Iterator[None]:
        self._boundary()
        self.stack.append(label)
        self.calls[label] += 1
        try:
            yield
        finally:
            self._boundary()
            self.stack.pop()

    def wrap(self, owner: Any, name: str, label: str | Callable[[], str]) -> None:
        original = getattr(owner, name)
        phases = self

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with phases.phase(label() if callable(label) else label):
                return original(*args, **kwargs)

        self.wrapped.append((owner, name, original))
        setattr(owner, name, wrapper)

    def unwrap_all(self) -> None:
        for owner, name, original in reversed(self.wrapped):
            setattr(owner, name, original)
        self.wrapped.clear()


class QpdfUnderTime:
    """Stands in for ``subprocess`` inside the render module: the qpdf the build runs is
    started under GNU time, so its peak RSS is known (it is a process of its own, outside
    this one's VmHWM). Everything else is the real module."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.peak_kib = 0
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def run(self, args: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        if not Path("/usr/bin/time").exists() or args[0] != "qpdf":
            return subprocess.run(args, **kwargs)
        self.calls += 1
        report_file = self.folder / f"qpdf-{os.getpid()}-{self.calls}.time"
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", str(report_file), *args], **kwargs
        )
        with contextlib.suppress(OSError, ValueError, IndexError):
            self.peak_kib = max(self.peak_kib, int(report_file.read_text().split()[-1]))
        report_file.unlink(missing_ok=True)
        return done


def child_build(
    case_reference: str, output: Path, profile_out: Path | None, weasyprint_alone: bool
) -> None:
    """One build in this fresh process; with ``weasyprint_alone``, then WeasyPrint alone on
    the HTML that build rendered, a second (warm) build, and WeasyPrint alone again."""
    django_setup()
    import pikepdf

    from cases.models import Case

    case = Case.objects.get(reference=case_reference)
    phases = Phases()
    baseline_kib = proc_status_kib("VmRSS")
    renders: list[int] = []  # page counts of the WeasyPrint documents, in order
    # The render module imports weasyprint, as a fresh worker's first build does: inside
    # the timed span, as its own phase (nothing if Django's setup imported it already).
    started = time.perf_counter()
    with phases.phase("import weasyprint"):
        import weasyprint
        import weasyprint.document

        from cases.casefile import render as casefile
    qpdf = QpdfUnderTime(output.parent)
    casefile.subprocess = qpdf  # type: ignore[assignment]

    render_original = weasyprint.HTML.render

    def render(self: Any, *args: Any, **kwargs: Any) -> Any:
        label = "WeasyPrint layout (main)" if not renders else "WeasyPrint layout (closing)"
        with phases.phase(label):
            document = render_original(self, *args, **kwargs)
        renders.append(len(document.pages))
        return document

    # The HTML documents the build gives WeasyPrint, kept to render again alone.
    given: list[dict[str, Any]] = []

    class RecordingHTML(weasyprint.HTML):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            given.append(kwargs)
            super().__init__(*args, **kwargs)

    casefile.HTML = RecordingHTML
    phases.wrapped.append((weasyprint.HTML, "render", render_original))
    weasyprint.HTML.render = render
    phases.wrap(weasyprint.document.Document, "write_pdf", "WeasyPrint PDF writing")
    phases.wrap(casefile, "_page_image", "page images (read from storage)")
    phases.wrap(casefile, "_downscaled_jpeg", "photo decode + downscale")
    phases.wrap(casefile, "_qpdf_merge", "qpdf merge (subprocess)")
    phases.wrap(casefile, "_stamp", "footer stamping (pikepdf)")
    phases.wrap(pikepdf.Pdf, "save", "pikepdf save")
    with phases.phase("case_file_build (rest)"):
        if profile_out is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
            built = casefile.case_file_build(case, "internal", output)
            profiler.disable()
            profiler.dump_stats(str(profile_out))
        else:
            built = casefile.case_file_build(case, "internal", output)
    elapsed = time.perf_counter() - started
    phases._boundary()
    phase_peaks = {k: v for k, v in phases.peak_kib.items() if k != "startup"}
    result: dict[str, Any] = {
        "seconds": elapsed,
        "import_seconds": phases.seconds["import weasyprint"],
        "baseline_kib": baseline_kib,
        "startup_peak_kib": phases.peak_kib["startup"],
        "peak_kib": max(phases.peak_kib.values()),
        "build_peak_kib": max(phase_peaks.values()),
        "qpdf_peak_kib": qpdf.peak_kib,
        "hwm_reset": phases.can_reset,
        "phase_seconds": dict(phases.seconds),
        "phase_peak_kib": dict(phases.peak_kib),
        "phase_calls": dict(phases.calls),
        "page_count": built.page_count,
        "renders": list(renders),
        "excluded": built.excluded,
        "refused_urls": built.refused_urls,
    }
    if weasyprint_alone:
        # From here on nothing is measured from inside: the app's own code runs as is.
        documents = list(given)
        phases.unwrap_all()
        casefile.HTML = weasyprint.HTML
        casefile.subprocess = subprocess

        def weasyprint_only() -> float:
            t0 = time.perf_counter()
            for number, kwargs in enumerate(documents):
                weasyprint.HTML(**kwargs).write_pdf(output.parent / f"alone-{number}.pdf")
            return time.perf_counter() - t0

        def build_again() -> float:
            t0 = time.perf_counter()
            casefile.case_file_build(case, "internal", output.with_suffix(".warm.pdf"))
            return time.perf_counter() - t0

        # Alternating pairs, so a burst of other work on the machine hits both sides alike.
        pairs = [(weasyprint_only(), build_again()) for _ in range(WARM_ROUNDS)]
        result["weasyprint_rounds"] = [alone for alone, _ in pairs]
        result["warm_rounds"] = [build for _, build in pairs]
        for number in range(len(documents)):
            (output.parent / f"alone-{number}.pdf").unlink(missing_ok=True)
        output.with_suffix(".warm.pdf").unlink(missing_ok=True)
    print(RESULT_MARK + json.dumps(result), flush=True)


# --- The parent: runs, qpdf, report --------------------------------------------------------


@dataclass
class Run:
    wall: float  # the whole subprocess, Python start-up and Django setup included
    result: dict[str, Any]


def spawn(args: list[str], log: Path, deadline: float) -> tuple[int, float]:
    """Run a process to the end (killed at the deadline); (exit status, wall seconds).

    Peak memory is not taken from ``wait4``: a child started from this process inherits
    this process's high-water mark through the fork/exec, so its ``ru_maxrss`` lies.
    """
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        code = process.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise TimeLimitReached from None
    finally:
        if process.returncode is None:
            process.kill()
            process.wait()
    return code, time.perf_counter() - started


def build_in_child(
    reference: str,
    output: Path,
    log: Path,
    deadline: float,
    profile_out: Path | None = None,
    weasyprint_alone: bool = False,
) -> Run:
    args = [sys.executable, str(Path(__file__).resolve()), "--child-build", reference]
    args += ["--output", str(output)]
    if profile_out is not None:
        args += ["--profile-out", str(profile_out)]
    if weasyprint_alone:
        args.append("--child-weasyprint-alone")
    code, wall = spawn(args, log, deadline)
    text = log.read_text(errors="replace")
    if code != 0:
        raise RuntimeError(f"the build failed (exit {code}):\n{text[-4000:]}")
    line = next(line for line in text.splitlines() if line.startswith(RESULT_MARK))
    return Run(wall, json.loads(line[len(RESULT_MARK) :]))


def qpdf_args(pdfs: list[Path], output: Path) -> list[str]:
    return ["qpdf", "--empty", "--pages", *map(str, pdfs), "--", str(output)]


def qpdf_merge(pdfs: list[Path], output: Path, log: Path, deadline: float) -> float:
    code, wall = spawn(qpdf_args(pdfs, output), log, deadline)
    if code not in (0, 3):  # 3: warnings, output written
        raise RuntimeError(f"qpdf failed (exit {code}): {log.read_text(errors='replace')}")
    return wall


def qpdf_peak_kib(pdfs: list[Path], output: Path, deadline: float) -> int | None:
    """qpdf's peak RSS through GNU time (a small parent of its own), if installed."""
    if not Path("/usr/bin/time").exists():
        return None
    report_file = output.with_suffix(".time")
    args = ["/usr/bin/time", "-f", "%M", "-o", str(report_file), *qpdf_args(pdfs, output)]
    code, _ = spawn(args, output.with_suffix(".log"), deadline)
    if code not in (0, 3):
        return None
    return int(report_file.read_text().split()[-1])


def pdf_text(path: Path, first: int, last: int) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-f", str(first), "-l", str(last), "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split("\f")


def photo_pages(output: Path, main_pages: int) -> int:
    """Pages of the WeasyPrint part that show a photo (their heading is "Record N: ...")."""
    pages = pdf_text(output, 1, main_pages)
    return sum(bool(re.search(r"^\s*Record \d+: ", page, re.M)) for page in pages)


def records_readable(output: Path, main_pages: int) -> bool:
    """The merged record pages still carry their own text and the stamped footer."""
    first, last = main_pages + 1, main_pages + PDF_RECORDS * PDF_PAGES
    pages = pdf_text(output, first, last)[: last - first + 1]
    return all("clinical record" in page and "Record " in page for page in pages)


def library_of(filename: str, name: str) -> str:
    """The library a profiled function belongs to (C functions by the type they are on)."""
    if filename == "~":  # a C function: "<method 'resize' of 'ImagingCore' objects>"
        match = re.search(r"of '([\w.]+)'", name) or re.search(r"built-in method ([\w.]+)", name)
        owner = match.group(1) if match else "builtins"
        if owner.startswith("Imaging"):
            return "PIL (C: decode, resize, copy, encode)"
        if owner.startswith(("zlib", "_io", "_cffi", "pikepdf")):
            return owner.split(".")[0] + " (C)"
        return "Python builtins (C)"
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    if filename.startswith(str(BASE_DIR)):
        folder = Path(filename).relative_to(BASE_DIR).parts[0]
        return "bench wrappers (this script)" if folder == "bench" else f"app: {folder}"
    return "stdlib"


def print_profile(profile_path: Path, top: int = 22) -> None:
    import pstats

    stats = pstats.Stats(str(profile_path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in raw.values())
    by_library: dict[str, float] = defaultdict(float)
    for (filename, _line, name), (_, _, tt, _, _) in raw.items():
        by_library[library_of(filename, name)] += tt
    print(f"\n  cProfile of one build ({total:.1f} s under the profiler), own time by library:")
    for library, seconds in sorted(by_library.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {library:<38} {seconds:6.2f} s  {100 * seconds / total:5.1f} %")
    print("  cumulative time of selected functions:")
    wanted = [
        ("weasyprint/__init__.py", "render"),
        ("weasyprint/document.py", "write_pdf"),
        ("weasyprint/layout/__init__.py", "layout_document"),
        ("weasyprint/css/__init__.py", "get_all_computed_styles"),
        ("weasyprint/pdf/__init__.py", "generate_pdf"),
        ("weasyprint/pdf/fonts.py", "build_fonts_dictionary"),
        ("cases/casefile/render.py", "_downscaled_jpeg"),
        ("cases/casefile/render.py", "_stamp"),
        ("cases/casefile/render.py", "_context"),
    ]
    for suffix, func in wanted:
        for (filename, _line, name), (_, _, _, ct, _) in raw.items():
            if name == func and filename.endswith(suffix):
                label = f"{suffix}:{func}"
                print(f"    {label:<52} {ct:6.2f} s  {100 * ct / total:5.1f} %")
    print(f"  top {top} functions by own time:")
    stream = io.StringIO()
    pstats.Stats(str(profile_path), stream=stream).sort_stats("tottime").print_stats(top)
    lines = stream.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    for line in lines[start : start + top + 1]:
        print("    " + line.replace(str(BASE_DIR) + "/", "").replace(sys.prefix + "/", ""))


def machine_info() -> list[str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = match.group(1) if match else cpu
    mem = 0
    with contextlib.suppress(OSError):
        match = re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M)
        mem = int(match.group(1)) if match else 0
    import pikepdf

    return [
        f"  CPU: {cpu}; nproc {len(os.sched_getaffinity(0))} (os.cpu_count {os.cpu_count()}); "
        f"RAM {mem / MIB:.1f} GiB",
        f"  {platform.platform()}; Python {platform.python_version()}",
        f"  Django {version_of('django')}, WeasyPrint {version_of('weasyprint')}, pydyf "
        f"{version_of('pydyf')}, pikepdf {version_of('pikepdf')} (libqpdf "
        f"{pikepdf.__libqpdf_version__}), Pillow {version_of('pillow')}",
        f"  {first_line(['qpdf', '--version'])}",
        "  load average at start (1/5/15 min): "
        + " ".join(f"{load:.2f}" for load in os.getloadavg())
        + " (other work on the machine skews the timings)",
    ]


def load_average() -> str:
    return "/".join(f"{load:.2f}" for load in os.getloadavg())


def report(
    setup: Setup,
    runs: list[Run],
    qpdf: list[float],
    qpdf_peak: int | None,
    photos_in_file: int,
    profile_path: Path | None,
) -> float:
    """Print the main measurement; returns build / (WeasyPrint alone + plain merge)."""
    first = runs[0].result
    main_pages, closing_pages = first["renders"][0], first["renders"][-1]
    total = first["page_count"]
    records_pages = total - main_pages - closing_pages
    print("\nInputs")
    print(
        f"  {PDF_RECORDS} record PDFs x {PDF_PAGES} pages ({setup.pdf_bytes / MIB:.1f} MiB), "
        f"{setup.photo_count} photos {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} q90 "
        f"({setup.photo_bytes / MIB:.1f} MiB); setup "
        + ", ".join(f"{k} {v:.1f} s" for k, v in setup.seconds.items())
    )
    print("\nPages of the case file")
    print(
        f"  total {total} = summary + index {main_pages - photos_in_file} (cover, contents, "
        f"7 sections, timeline, directions, records index) + photos {photos_in_file} + "
        f"record PDFs {records_pages} + closing {closing_pages}; every record page keeps its "
        "text and gets its footer (pdftotext)"
    )
    if first["excluded"] or first["refused_urls"]:
        print(f"  excluded {first['excluded']}; refused URLs {first['refused_urls']}")

    print(
        "\nBuilds (each run a fresh process: a first build, timed with the WeasyPrint import;"
        "\nthen rounds of WeasyPrint alone on the HTML that build rendered and a warm build;"
        "\npeak RSS is the Python process's, qpdf's is its own process's)"
    )
    for number, run in enumerate(runs, 1):
        r = run.result
        print(
            f"  run {number} (load {r['load']}): first build {r['seconds']:5.2f} s (import "
            f"{r['import_seconds']:.2f} s), peak RSS {mib(r['peak_kib']):5.1f} MiB + qpdf "
            f"{mib(r['qpdf_peak_kib']):4.1f} MiB; then WeasyPrint alone / build: "
            + ", ".join(
                f"{alone:.2f} / {build:.2f} s"
                for alone, build in zip(r["weasyprint_rounds"], r["warm_rounds"], strict=True)
            )
        )
    cold = statistics.median(run.result["seconds"] for run in runs)
    warm_all = [t for run in runs for t in run.result["warm_rounds"]]
    alone_all = [t for run in runs for t in run.result["weasyprint_rounds"]]
    warm, alone = min(warm_all), min(alone_all)
    peak_worst = max(mib(run.result["peak_kib"]) for run in runs)
    qpdf_in_build = max(mib(run.result["qpdf_peak_kib"]) for run in runs)
    print(
        f"  first build median {cold:.2f} s (a fresh worker); warm build median "
        f"{statistics.median(warm_all):.2f} s, best {warm:.2f} s; WeasyPrint alone median "
        f"{statistics.median(alone_all):.2f} s, best {alone:.2f} s; peak RSS worst "
        f"{peak_worst:.1f} MiB (+ qpdf {qpdf_in_build:.1f} MiB, a process of its own)"
    )
    if not runs[0].result["hwm_reset"]:
        print("  (VmHWM could not be reset: phase peaks are cumulative)")

    print("\nPhases of the first build of the median run (time, peak RSS while in the phase)")
    median_run = sorted(runs, key=lambda run: run.result["seconds"])[len(runs) // 2].result
    for label, seconds in sorted(median_run["phase_seconds"].items(), key=lambda kv: -kv[1]):
        if label == "startup":
            continue
        calls = median_run["phase_calls"].get(label, 0)
        print(
            f"  {label:<32} {seconds:6.2f} s  {100 * seconds / median_run['seconds']:5.1f} %  "
            f"peak {mib(median_run['phase_peak_kib'].get(label, 0)):6.1f} MiB  "
            f"({calls} call{'s' if calls != 1 else ''})"
        )

    qpdf_p50 = statistics.median(qpdf)
    print(f"\nPlain merge of the same {PDF_RECORDS} record PDFs: qpdf --empty --pages ... -- out")
    peak_text = f"{mib(qpdf_peak):.1f} MiB" if qpdf_peak is not None else "n/a"
    print(
        f"  {len(qpdf)} runs: "
        + ", ".join(f"{t * 1000:.0f}" for t in qpdf)
        + f" ms; p50 {qpdf_p50 * 1000:.0f} ms (process wall); peak RSS {peak_text}"
    )
    if profile_path is not None:
        print_profile(profile_path)
    # The best of each: on a shared machine the least disturbed sample is the closest to
    # the work's own cost, and every side gets the same treatment.
    qpdf_best = min(qpdf)
    ratio = warm / (alone + qpdf_best)
    median_ratio = statistics.median(warm_all) / (
        statistics.median(alone_all) + statistics.median(qpdf)
    )
    print(
        f"\n  best warm build {warm:.2f} s / (best WeasyPrint alone {alone:.2f} s + best plain "
        f"merge {qpdf_best:.3f} s) = {ratio:.2f} (target <= {RATIO_TARGET}: "
        f"{'PASS' if ratio <= RATIO_TARGET else 'MISS'}); from the medians: {median_ratio:.2f}"
    )
    return ratio


def scaling(cases: list[ScalingCase], out: Path, deadline: float) -> list[str]:
    """One build per case (a fresh process each); the table's rows as Markdown."""
    rows = [
        "| case | pages | time | peak RSS (Python) | peak RSS (qpdf) | load at start |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    labels = {"pages": "{} record pages", "photos": "{} photos (12 MP)", "scans": "{} MB of scans"}
    print("\nScaling (each build a fresh process, weasyprint import included)", flush=True)
    for item in cases:
        label = labels[item.kind].format(f"{item.size:,}")
        if item.kind == "scans":
            label += f" ({item.record_bytes / 1e6:.0f} MB stored)"
        load = load_average()
        output = out / f"scaling-{item.kind}-{item.size}.pdf"
        try:
            run = build_in_child(item.reference, output, out / "scaling.log", deadline)
        except TimeLimitReached:
            rows.append(f"| {label} | — | not measured: the run's time limit | | | {load} |")
            print("  " + rows[-1], flush=True)
            break
        r = run.result
        output.unlink(missing_ok=True)
        rows.append(
            f"| {label} | {r['page_count']:,} | {r['seconds']:.1f} s | "
            f"{mib(r['peak_kib']):.0f} MiB | {mib(r['qpdf_peak_kib']):.0f} MiB | {load} |"
        )
        print("  " + rows[-1], flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="measured processes (default 3)")
    parser.add_argument(
        "--paragraphs",
        type=int,
        default=DEFAULT_PARAGRAPHS,
        help=f"summary paragraphs per side and section (default {DEFAULT_PARAGRAPHS})",
    )
    parser.add_argument("--profile", action="store_true", help="one more build under cProfile")
    parser.add_argument(
        "--scaling", action="store_true", help="also the scaling table (pages, photos, scans)"
    )
    parser.add_argument("--time-limit", type=float, default=1800.0, help="seconds for the run")
    parser.add_argument("--child-build", metavar="CASE", help=argparse.SUPPRESS)
    parser.add_argument("--child-weasyprint-alone", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_build:
        child_build(args.child_build, args.output, args.profile_out, args.child_weasyprint_alone)
        return 0

    deadline = time.monotonic() + args.time_limit
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(args.time_limit) + 5)
    tmp = Path(tempfile.mkdtemp(prefix="bench-case-file-"))
    try:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "medchina.settings",
                "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
                "MEDCHINA_VAR_DIR": str(tmp / "var"),
                "MEDCHINA_PRIVATE_STORAGE_ROOT": str(tmp / "private"),
                "CELERY_BROKER_URL": "memory://",
                "DJANGO_DEBUG": "false",
            }
        )
        print("Case-file benchmark: case_file_build(case, 'internal', out) on a large case")
        print("\n".join(machine_info()))
        django_setup()
        print("\nSetting up (not timed against the target) ...", flush=True)
        setup = seed(args.paragraphs, tmp / "merge-inputs")
        out = tmp / "out"
        out.mkdir()
        runs: list[Run] = []
        qpdf: list[float] = []
        merged = out / "qpdf.pdf"
        qpdf_merge(setup.pdf_paths, merged, out / "qpdf.log", deadline)  # warm-up
        for number in range(1, max(1, args.runs) + 1):
            load = load_average()
            print(f"  run {number} (load average {load}) ...", flush=True)
            output = out / f"case-file-{number}.pdf"
            log = out / f"build-{number}.log"
            run = build_in_child(setup.case_reference, output, log, deadline, weasyprint_alone=True)
            run.result["load"] = load
            runs.append(run)
            # The plain merge right after each build, in the same conditions.
            qpdf.append(qpdf_merge(setup.pdf_paths, merged, out / "qpdf.log", deadline))
            if number > 1:
                output.unlink()
        while len(qpdf) < QPDF_RUNS:
            qpdf.append(qpdf_merge(setup.pdf_paths, merged, out / "qpdf.log", deadline))
        qpdf_peak = qpdf_peak_kib(setup.pdf_paths, merged, deadline)
        main_pages = runs[0].result["renders"][0]
        photos = photo_pages(out / "case-file-1.pdf", main_pages)
        if not records_readable(out / "case-file-1.pdf", main_pages):
            raise RuntimeError("the merged record pages lost their text or footer")
        profile_path = None
        if args.profile:
            print("  profiled build ...", flush=True)
            profile_path = out / "build.prof"
            build_in_child(
                setup.case_reference, out / "profiled.pdf", out / "profiled.log", deadline,
                profile_path,
            )  # fmt: skip
        ratio = report(setup, runs, qpdf, qpdf_peak, photos, profile_path)
        if args.scaling:
            print("\nSetting up the scaling cases ...", flush=True)
            cases, seconds = seed_scaling(setup.case_reference, tmp)
            print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
            print("\n".join(scaling(cases, out, deadline)))
        print(f"\n  load average at the end (1/5/15 min): {load_average()}")
        print(f"build/(weasyprint+merge): {ratio:.2f}")
        return 0 if ratio <= RATIO_TARGET else 1
    except TimeLimitReached:
        print(f"\nStopped: the run passed --time-limit ({args.time_limit:.0f} s).")
        return 2
    finally:
        signal.alarm(0)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
