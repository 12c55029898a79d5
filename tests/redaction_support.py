"""Letters with planted identifiers, typed (text layer) and photographed, for tests and bench.

Each letter knows exactly where its identifiers are (from its own text layer), so recall and
precision of the redaction proposals can be measured, and the photographed version knows
the turn and scale it was photographed with.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFilter

from cases.domain.identifiers import Identity, join_words
from cases.records.redaction import pages

IDENTITY = Identity(
    names=("Mark Hope", "Susan Hope-Williams"),
    date_of_birth=date(1961, 4, 3),
    nhs_number="9434765919",
    postcodes=("LS1 4AP",),
    phones=("07700 900123",),
    emails=("mark.hope@example.org",),
    address_lines=("14 Quarry Hill Road",),
    providers=("Leeds Teaching Hospitals NHS Trust",),
    clinicians=("Dr Priya Shah",),
)

# Many spellings of each identifier; a letter uses a rotating selection.
NAMES = ["Mr Mark Hope", "Mr Hope", "M. Hope", "HOPE, Mark", "Mark Hope's", "Mr M Hope"]
FAMILY = ["Mrs Susan Hope-Williams", "Mrs Hope-Williams", "Susan Hope-Williams"]
DOBS = ["03.04.1961", "3/4/61", "April 3, 1961", "3rd April 1961", "03/04/1961", "3 Apr 1961"]
NHS = ["943 476 5919", "943.476.5919", "9434 765 919", "9434765919", "943-476-5919"]
PHONES = ["+44 7700 900123", "+447700900123", "07700 900123", "07700900123"]
OTHER_NHS = ["401 023 2137", "450 557 7104"]  # valid NHS numbers of other people
CLINICIANS = ["Dr Priya Shah", "Dr Shah", "Dr P. Shah"]
OTHERS = ["Dr James Wilson", "Professor Helen Clarke", "Mrs Grace Adeyemi"]
MRNS = ["RXH1234567", "LTH0456123", "RR8 2210456"]


@dataclass
class Planted:
    kind: str
    text: str


@dataclass
class Letter:
    number: int
    html: str
    planted: list[Planted] = field(default_factory=list)


def letter(number: int) -> Letter:
    """A clinic letter about Mark Hope, with identifiers spelled in several ways."""
    pick = lambda options, k=0: options[(number + k) % len(options)]  # noqa: E731
    planted = [
        Planted("provider", "Leeds Teaching Hospitals NHS Trust"),
        Planted("hospital number", pick(MRNS)),
        Planted("name", pick(NAMES)),
        Planted("date of birth", pick(DOBS)),
        Planted("NHS number", pick(NHS)),
        Planted("address", "14 Quarry Hill Road"),
        Planted("postcode", "LS1 4AP"),
        Planted("phone number", pick(PHONES)),
        Planted("e-mail address", "mark.hope@example.org"),
        Planted("name", pick(NAMES, 1)),
        Planted("clinician", pick(CLINICIANS)),
        Planted("name", pick(FAMILY)),
        Planted("date of birth", pick(DOBS, 2)),
        Planted("NHS number", pick(OTHER_NHS)),
        Planted("person's name", pick(OTHERS)),
        Planted("name", pick(NAMES, 2)),
    ]
    p = [item.text for item in planted]
    html = f"""<!doctype html><html><head><meta charset="utf-8"><style>
      @page {{ size: A4; margin: 22mm 20mm; }}
      body {{ font-family: "DejaVu Sans", sans-serif; font-size: 11pt; line-height: 1.45; }}
      .head {{ font-size: 13pt; font-weight: bold; }}
      td {{ padding: 1mm 4mm 1mm 0; vertical-align: top; }}
    </style></head><body>
    <p class="head">{p[0]}</p>
    <p>Oncology Outpatients, Bexley Wing &middot; Hospital number {p[1]}</p>
    <table>
      <tr><td>Patient:</td><td>{p[2]}</td></tr>
      <tr><td>Date of birth:</td><td>{p[3]}</td></tr>
      <tr><td>NHS number:</td><td>{p[4]}</td></tr>
      <tr><td>Address:</td><td>{p[5]}, Leeds {p[6]}</td></tr>
      <tr><td>Telephone:</td><td>{p[7]}</td></tr>
      <tr><td>E-mail:</td><td>{p[8]}</td></tr>
    </table>
    <p>Clinic date: 12 March 2024. Letter {number}.</p>
    <p>Dear Dr Okafor,</p>
    <p>I saw {p[9]} today in the breast oncology clinic with {p[11]}, who helps with
    appointments. We hope the plan below is clear. Mark the follow-up on the calendar.</p>
    <p>Diagnosis: invasive ductal carcinoma of the left breast, grade 2, HER2 positive
    (IHC 3+), ER positive. Staging CT showed no distant disease. The tumour measured 24 mm
    on ultrasound. He completed four cycles of neoadjuvant docetaxel with trastuzumab and
    pertuzumab, tolerated well apart from grade 1 diarrhoea.</p>
    <p>Plan: surgery in May, then adjuvant trastuzumab to complete one year. Echo every
    three months. I have explained that the response so far is encouraging.</p>
    <p>Born {p[12]}; his records were merged with {p[13]} in error last year and this has
    been corrected. The pathology was reviewed by {p[14]}.</p>
    <p>Yours sincerely,</p>
    <p>{p[10]}<br>Consultant Medical Oncologist</p>
    <p>cc: {p[15]} (patient), GP</p>
    </body></html>"""
    return Letter(number, html, planted)


def write_letter_pdf(item: Letter, output: Path) -> Path:
    from weasyprint import HTML

    HTML(string=item.html).write_pdf(output)
    return output


def planted_boxes(
    page: pages.Page, item: Letter
) -> list[tuple[Planted, tuple[int, int, int, int]]]:
    """Where each planted identifier is on a text-layer page (one box per line it spans)."""
    text, spans = join_words(page.words)
    found: list[tuple[Planted, tuple[int, int, int, int]]] = []
    position = 0
    for planted in item.planted:
        flexible = "".join(c for c in planted.text if not c.isspace())
        start = _find_flexible(text, flexible, position)
        if start is None:
            start = _find_flexible(text, flexible, 0)
        if start is None:
            raise AssertionError(f"{planted.text!r} is not on the page")
        end = _end_flexible(text, flexible, start)
        assert end is not None
        position = end
        lines: dict[int, list[tuple[int, int, int, int]]] = {}
        for index, (w_start, w_end) in enumerate(spans):
            if w_start < end and w_end > start:
                word = page.words[index]
                lines.setdefault(word.line, []).append(word.box)
        for boxes in lines.values():
            found.append(
                (
                    planted,
                    (
                        min(b[0] for b in boxes),
                        min(b[1] for b in boxes),
                        max(b[2] for b in boxes),
                        max(b[3] for b in boxes),
                    ),
                )
            )
    return found


def _find_flexible(text: str, squeezed: str, start: int) -> int | None:
    for index in range(start, len(text)):
        if text[index] == squeezed[0] and _end_flexible(text, squeezed, index) is not None:
            return index
    return None


def _end_flexible(text: str, squeezed: str, start: int) -> int | None:
    position = start
    for char in squeezed:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text) or text[position] != char:
            return None
        position += 1
    return position


@dataclass
class Photo:
    path: Path
    angle: float  # degrees the letter was turned (counter-clockwise) in the photo
    scale: float  # photo pixels per rendered-letter pixel
    offset: tuple[float, float]  # where the turned letter's corner sits in the photo
    render_dpi: int


def photograph_again(output: Path, *, seed: int) -> Photo:
    """The description of a photo ``photograph`` made before with this seed (no new picture)."""
    return photograph(None, output, seed=seed, describe_only=True)


def photograph(
    pdf: Path | None,
    output: Path,
    *,
    seed: int,
    angle: float | None = None,
    describe_only: bool = False,
) -> Photo:
    """A 12 MP phone photo (4000 x 3000, portrait) of the letter's first page."""
    rng = random.Random(seed)
    if describe_only:
        angle = rng.uniform(-7, 7) if angle is None else angle
        scale = 3300 / round(842.04 * 300 / 72)
        turned = Image.new("1", (round(595.44 * 300 / 72 * scale), 3300)).rotate(angle, expand=True)
        offset = (
            (3000 - turned.width) / 2 + rng.uniform(-40, 40),
            (4000 - turned.height) / 2 + rng.uniform(-40, 40),
        )
        return Photo(output, angle, scale, (round(offset[0]), round(offset[1])), 300)
    assert pdf is not None
    render_dpi = 300
    document = pdfium.PdfDocument(str(pdf))
    bitmap = document[0].render(scale=render_dpi / 72)
    paper = bitmap.to_pil().convert("RGB")
    document.close()
    angle = rng.uniform(-7, 7) if angle is None else angle
    scale = 3300 / paper.height
    paper = paper.resize((round(paper.width * scale), round(paper.height * scale)), Image.LANCZOS)
    mask = Image.new("L", paper.size, 255)
    turned = paper.rotate(angle, resample=Image.BICUBIC, expand=True)
    turned_mask = mask.rotate(angle, resample=Image.BICUBIC, expand=True)
    width, height = 3000, 4000
    # A table top: a brown gradient with some grain.
    gradient = np.linspace(90, 140, height, dtype=np.float32)[:, None] * np.ones(
        (1, width), np.float32
    )
    table = np.stack([gradient * 1.0, gradient * 0.8, gradient * 0.6], axis=-1)
    photo = Image.fromarray(table.clip(0, 255).astype(np.uint8))
    offset = (
        (width - turned.width) / 2 + rng.uniform(-40, 40),
        (height - turned.height) / 2 + rng.uniform(-40, 40),
    )
    photo.paste(turned, (round(offset[0]), round(offset[1])), turned_mask)
    # Uneven light from a window and a little softness from the lens.
    shade = np.linspace(1.0, 0.82, width, dtype=np.float32)[None, :, None]
    array = np.asarray(photo, dtype=np.float32) * shade
    noise = np.random.default_rng(seed).normal(0, 4, array.shape).astype(np.float32)
    photo = Image.fromarray((array + noise).clip(0, 255).astype(np.uint8))
    photo = photo.filter(ImageFilter.GaussianBlur(0.8))
    photo.save(output, "JPEG", quality=90)
    return Photo(output, angle, scale, (round(offset[0]), round(offset[1])), render_dpi)


def rotate_point(
    x: float, y: float, angle: float, size: tuple[int, int], turned_size: tuple[int, int]
) -> tuple[float, float]:
    """Where (x, y) lands when a picture of ``size`` is turned ``angle``° (PIL, expand)."""
    theta = math.radians(angle)
    cx, cy = size[0] / 2, size[1] / 2
    tx, ty = turned_size[0] / 2, turned_size[1] / 2
    dx, dy = x - cx, y - cy
    return (
        math.cos(theta) * dx + math.sin(theta) * dy + tx,
        -math.sin(theta) * dx + math.cos(theta) * dy + ty,
    )


def handwriting(output: Path) -> Path:
    """A page of scribbles: ink everywhere and not a word OCR can read."""
    rng = random.Random(7)
    image = Image.new("RGB", (1700, 2200), "white")
    draw = ImageDraw.Draw(image)
    for line in range(18):
        y = 200 + line * 100
        x = 150
        while x < 1500:
            points = [(x + i * 6, y + rng.randint(-25, 25)) for i in range(rng.randint(6, 16))]
            draw.line(points, fill=(20, 20, 60), width=4, joint="curve")
            x = points[-1][0] + rng.randint(20, 50)
    image.save(output)
    return output


def approve_all(case, by=None) -> None:
    """Propose and accept the boxes of every record a partner file includes, as an operator."""
    from cases.records.redaction.selectors import partner_records
    from cases.records.redaction.services import (
        partner_copy_approve,
        partner_copy_prepare,
        partner_copy_propose,
    )

    for record in partner_records(case):
        copy = partner_copy_prepare(record=record)
        following: int | None = 1
        while following:
            following = partner_copy_propose(partner_copy_id=copy.pk, first_page=following)
        copy.refresh_from_db()
        partner_copy_approve(partner_copy=copy, by=by, accept_proposals=True)
