"""Record pages as pictures, with the words on them and where each word is.

Every page becomes a picture first (PDF pages at ``PDF_DPI`` with pdfium, photos turned
upright, straightened and scaled); that picture is what the partner copy is made from, so
the raster is the truth and anything the picture does not show (white text, hidden
annotations, form values) can never reach a partner. Words come from the PDF's text layer
where it has one, and from Tesseract where it does not (or where the page is mostly a
scanned picture). A page on which OCR finds ink but no words it trusts (handwriting, a
blurred photo) is marked ``unreadable``: a coordinator must look at it.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytesseract
from PIL import Image, ImageFilter, ImageOps

from cases.domain.identifiers import Word

PDF_DPI = 200
# About 170 dpi across a letter that fills a phone photo: OCR still reads it, in < 3 s a page.
PHOTO_MAX_SIDE = 2000
OCR_LANGUAGES = "eng"
OCR_TIMEOUT = 120  # seconds for one page; a page that takes longer is left for the eye
CONFIDENT = 60  # Tesseract's word confidence from which a word counts as read
MIN_READ_WORDS = 5
UNREAD_INK = 0.5  # more of the ink than this outside confident words: handwriting or a picture
INK_FRACTION = 0.004  # share of dark pixels above which a page "has something on it"
SCAN_AREA = 0.25  # a PDF page whose pictures cover this much is treated as a scan
MAX_SKEW = 20  # degrees; photos more crooked than this are turned by orientation detection

# Tesseract itself uses every core; the worker runs pages one at a time, so one thread each
# avoids two processes thrashing two cores.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@dataclass
class Page:
    number: int  # from 1
    image: Image.Image  # RGB, the picture the partner copy is made from
    words: list[Word] = field(default_factory=list)
    source: str = "text"  # "text" (PDF text layer), "ocr", or "text+ocr"
    unreadable: bool = False  # OCR found ink but could not read it: review by eye
    rotated: int = 0  # degrees turned to make a photo upright
    skew: float = 0.0


class PageError(Exception):
    """A file we cannot turn into pages; the message is plain English."""


# --- PDFs ---------------------------------------------------------------------------------------


def pdf_page_count(path: Path) -> int:
    document = pdfium.PdfDocument(str(path))
    try:
        return len(document)
    finally:
        document.close()


def pdf_pages(
    path: Path,
    *,
    dpi: int = PDF_DPI,
    languages: str = OCR_LANGUAGES,
    ocr: bool = True,
    first: int = 1,
    last: int | None = None,
) -> Iterator[Page]:
    """Pages ``first`` to ``last`` (from 1) of a PDF as pictures with their words.

    One page is in memory at a time, so a 300-page PDF needs no more than a 1-page one.
    """
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        raise PageError("This PDF cannot be opened.") from error
    try:
        stop = len(document) if last is None else min(last, len(document))
        for index in range(first - 1, stop):
            page = document[index]
            try:
                yield _pdf_page(page, index + 1, dpi=dpi, languages=languages, ocr=ocr)
            finally:
                page.close()
    finally:
        document.close()


def _pdf_page(page: pdfium.PdfPage, number: int, *, dpi: int, languages: str, ocr: bool) -> Page:
    scale = dpi / 72
    # Annotations and form fields are not drawn: what they hold is not page content, and
    # leaving them out means nothing hidden in them can reach the partner copy.
    bitmap = page.render(scale=scale, draw_annots=False, may_draw_forms=False)
    image = bitmap.to_pil().convert("RGB")
    bitmap.close()
    words = text_layer_words(page, scale=scale)
    result = Page(number=number, image=image, words=words, source="text")
    if ocr and (len(words) < MIN_READ_WORDS or _mostly_pictures(page)):
        read = ocr_page(image, languages=languages, straighten=False)
        result.words = words + read.words
        result.source = "text+ocr" if words else "ocr"
        result.unreadable = read.unreadable and not words
    return result


def text_layer_words(page: pdfium.PdfPage, *, scale: float) -> list[Word]:
    """Words from the PDF's text layer, boxed in the coordinates of the rendered picture."""
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        left, bottom, right, top = page.get_cropbox()
        width, height = right - left, top - bottom
        rotation = page.get_rotation() % 360
        words: list[Word] = []
        chars: list[str] = []
        boxes: list[tuple[float, float, float, float]] = []
        line = 0
        last_middle: float | None = None

        def flush() -> None:
            if chars:
                x0 = min(b[0] for b in boxes)
                y0 = min(b[1] for b in boxes)
                x1 = max(b[2] for b in boxes)
                y1 = max(b[3] for b in boxes)
                box = tuple(round(v * scale) for v in (x0, y0, x1, y1))
                words.append(Word("".join(chars), box, line))  # type: ignore[arg-type]
                chars.clear()
                boxes.clear()

        for index in range(count):
            code = pdfium_c.FPDFText_GetUnicode(textpage, index)
            char = chr(code) if 0 < code < 0x110000 else ""
            if char in {"\r", "\n"} or char.isspace() or not char:
                flush()
                if char in {"\r", "\n"} and last_middle is not None:
                    line += 1
                    last_middle = None
                continue
            c_left, c_bottom, c_right, c_top = textpage.get_charbox(index, loose=True)
            u0, v0 = c_left - left, top - c_top
            u1, v1 = c_right - left, top - c_bottom
            box = _rotate_box((u0, v0, u1, v1), rotation, width, height)
            middle = (box[1] + box[3]) / 2
            if last_middle is not None and abs(middle - last_middle) > max(box[3] - box[1], 2):
                flush()
                line += 1
            last_middle = middle
            chars.append(char)
            boxes.append(box)
        flush()
        return words
    finally:
        textpage.close()


def _rotate_box(
    box: tuple[float, float, float, float], rotation: int, width: float, height: float
) -> tuple[float, float, float, float]:
    """A box in the unrotated page (top-left origin) as shown after the page's /Rotate."""
    u0, v0, u1, v1 = box
    if rotation == 90:
        return (height - v1, u0, height - v0, u1)
    if rotation == 180:
        return (width - u1, height - v1, width - u0, height - v0)
    if rotation == 270:
        return (v0, width - u1, v1, width - u0)
    return box


def _mostly_pictures(page: pdfium.PdfPage) -> bool:
    """Does this page look like a scan (pictures over much of it) rather than typed text?"""
    left, bottom, right, top = page.get_cropbox()
    area = max((right - left) * (top - bottom), 1)
    covered = 0.0
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        o_left, o_bottom, o_right, o_top = obj.get_bounds()
        covered += max(0, o_right - o_left) * max(0, o_top - o_bottom)
        if covered / area >= SCAN_AREA:
            return True
    return False


# --- Photos -------------------------------------------------------------------------------------


def photo_page(path_or_image: Path | Image.Image, *, languages: str = OCR_LANGUAGES) -> Page:
    """A photo (or scan) of one page: turned upright, straightened, scaled, read by OCR."""
    if isinstance(path_or_image, Image.Image):
        image = path_or_image
    else:
        with Image.open(path_or_image) as opened:
            opened.draft("RGB", (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))  # JPEG: decode smaller
            image = ImageOps.exif_transpose(opened)
            image.load()
    image = _flatten(image)
    if max(image.size) > PHOTO_MAX_SIDE:
        image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=3)
    page = ocr_page(image, languages=languages, straighten=True)
    return page


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


# --- OCR ----------------------------------------------------------------------------------------


def ocr_page(image: Image.Image, *, languages: str = OCR_LANGUAGES, straighten: bool) -> Page:
    """Read a picture with Tesseract; with ``straighten``, turn and deskew it first."""
    skew = 0.0
    if straighten:
        skew = estimate_skew(image)
        if abs(skew) >= 0.3:
            image = image.rotate(
                skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="white"
            )
    words, confident = _ocr_words(image, languages)
    rotated = 0
    if straighten and confident < MIN_READ_WORDS * 4:
        # Few words read: perhaps the photo is on its side or upside down.
        turn = _orientation(image)
        if turn:
            turned = image.rotate(-turn, expand=True)
            turned_words, turned_confident = _ocr_words(turned, languages)
            if turned_confident > confident:
                image, words, confident, rotated = turned, turned_words, turned_confident, turn
    unreadable = confident < MIN_READ_WORDS and has_ink(image)
    return Page(
        number=1,
        image=image,
        words=words,
        source="ocr",
        unreadable=unreadable,
        rotated=rotated,
        skew=skew,
    )


def binarise(image: Image.Image) -> Image.Image:
    """Black ink on white paper, judged against the light around each pixel.

    Phone photos are lit unevenly; a local threshold keeps the letters in the shadow, and
    Tesseract reads a clean two-tone picture about a third faster than a photo.
    """
    gray = image.convert("L")
    if np.median(np.asarray(gray)) < 100:
        # Light text on a dark picture (scanner and DICOM overlays): read it as dark on light.
        gray = ImageOps.invert(gray)
    background = gray.filter(ImageFilter.BoxBlur(15))
    pixels = np.asarray(gray, dtype=np.int16)
    local = np.asarray(background, dtype=np.int16)
    return Image.fromarray(np.where(pixels < local - 12, 0, 255).astype(np.uint8))


def _ocr_words(image: Image.Image, languages: str) -> tuple[list[Word], int]:
    """Words Tesseract reads, and how many of them it is sure of.

    A word counts as sure only when confident and when most of the page's ink lies in
    such words: scribbles give Tesseract plenty of confident nonsense, but they leave
    most of their ink outside anything it could read.
    """
    gray = binarise(image)
    try:
        data = pytesseract.image_to_data(
            gray,
            lang=languages,
            config="--psm 3",
            output_type=pytesseract.Output.DICT,
            timeout=OCR_TIMEOUT,
        )
    except RuntimeError:  # pytesseract raises RuntimeError on its timeout
        return [], 0
    words: list[Word] = []
    lines: dict[tuple[int, int, int], int] = {}
    confident = 0
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        if not text:
            continue
        confidence = float(data["conf"][i])
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        line = lines.setdefault(key, len(lines))
        left, top = int(data["left"][i]), int(data["top"][i])
        box = (left, top, left + int(data["width"][i]), top + int(data["height"][i]))
        words.append(Word(text, box, line, confidence))
        if confidence >= CONFIDENT and re.search(r"\w\w", text):
            confident += 1
    if confident and _ink_outside_words(gray, words) > UNREAD_INK:
        confident = 0
    return words, confident


def _ink_outside_words(binary: Image.Image, words: list[Word]) -> float:
    """Share of the ink among the words that is not inside a word read with confidence.

    Only the area the words span counts, so a photo's table edge or the paper's outline
    is not mistaken for unread writing.
    """
    if not words:
        return 0.0
    step = 4
    left = min(w.box[0] for w in words) // step
    top = min(w.box[1] for w in words) // step
    right = max(w.box[2] for w in words) // step + 1
    bottom = max(w.box[3] for w in words) // step + 1
    ink = (np.asarray(binary, dtype=np.uint8)[::step, ::step] < 128)[top:bottom, left:right]
    if not ink.any():
        return 0.0
    inside = np.zeros_like(ink)
    for word in words:
        if word.confidence >= CONFIDENT:
            w_left, w_top, w_right, w_bottom = (v // step for v in word.box)
            margin = max(1, (w_bottom - w_top) // 3)
            inside[
                max(0, w_top - top - margin) : w_bottom - top + margin + 1,
                max(0, w_left - left - margin) : w_right - left + margin + 1,
            ] = True
    return float((ink & ~inside).sum() / ink.sum())


def _orientation(image: Image.Image) -> int:
    """Degrees clockwise the picture must turn to be upright, by Tesseract's OSD (or 0)."""
    small = image.copy()
    small.thumbnail((1600, 1600))
    try:
        osd = pytesseract.image_to_osd(small.convert("L"), config="--psm 0", timeout=OCR_TIMEOUT)
    except (pytesseract.TesseractError, RuntimeError):
        return 0
    found = re.search(r"Rotate:\s*(\d+)", osd)
    return int(found.group(1)) % 360 if found else 0


def estimate_skew(image: Image.Image) -> float:
    """The small angle (degrees, counter-clockwise) that makes text lines horizontal.

    Lines of text give sharp peaks in the row sums of dark pixels when they are level;
    the angle with the most peaked profile wins (a coarse then a fine search).
    """
    small = image.convert("L")
    small.thumbnail((900, 900))
    pixels = np.asarray(small, dtype=np.uint8)
    threshold = min(160, int(pixels.mean() * 0.75))
    ink = Image.fromarray(((pixels < threshold) * 255).astype(np.uint8))

    def sharpness(angle: float) -> float:
        rotated = np.asarray(ink.rotate(angle, resample=Image.Resampling.NEAREST, expand=True))
        rows = rotated.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(rows)).sum())

    best = max(range(-MAX_SKEW, MAX_SKEW + 1), key=lambda a: sharpness(float(a)))
    fine = max((best + step / 4 for step in range(-4, 5)), key=sharpness)
    return 0.0 if math.isclose(fine, 0.0, abs_tol=0.2) else fine


def has_ink(image: Image.Image) -> bool:
    small = image.convert("L")
    small.thumbnail((600, 600))
    pixels = np.asarray(small, dtype=np.uint8)
    dark = pixels < min(128, int(np.median(pixels)) - 60)
    return float(dark.mean()) >= INK_FRACTION


def languages_for(*texts: str) -> str:
    """Add Simplified Chinese to OCR only when the case has Chinese to find (it is slower)."""
    if any("\u3400" <= c <= "\u9fff" for text in texts for c in text):
        return "eng+chi_sim"
    return OCR_LANGUAGES
