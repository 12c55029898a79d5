"""The second, independent look at a finished partner PDF before it may be released.

Every page is read twice: its text (what a reader can select or search) and an OCR of
its picture (what a reader sees). Both are searched for the case's own identifiers and
for the identifiers that must never reach a partner whoever they belong to (valid NHS
numbers, e-mail addresses, phone numbers, postcodes). Any finding blocks approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium

from cases.domain import identifiers
from cases.domain.identifiers import Identity
from cases.records.redaction import pages

VERIFY_DPI = 150
# Generic kinds that block release whoever they belong to. A clinician's or hospital's name
# may appear on purpose (the coordinator kept it), so those block only as the case's own.
ALWAYS_BLOCKING = frozenset({"NHS number", "e-mail address", "phone number", "postcode"})


@dataclass(frozen=True)
class Finding:
    page: int
    kind: str
    text: str
    seen_in: str  # "text" (the PDF's text) or "picture" (OCR of the page)

    def __str__(self) -> str:
        where = "text" if self.seen_in == "text" else "picture"
        return f"page {self.page}: {self.kind} “{self.text}” (in the page {where})"


def blocking(hits: list[identifiers.Hit]) -> list[identifiers.Hit]:
    return [hit for hit in hits if hit.identity or hit.kind in ALWAYS_BLOCKING]


def verify_pdf(
    path: Path, identity: Identity, *, ocr: bool = True, languages: str | None = None
) -> list[Finding]:
    """Every identifier found in the rendered PDF, by page; an empty list means clean."""
    languages = languages or pages.languages_for(*identity.names)
    findings: list[Finding] = []
    document = pdfium.PdfDocument(str(path))
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                textpage = page.get_textpage()
                text = textpage.get_text_range()
                textpage.close()
                for hit in blocking(identifiers.find(text, identity)):
                    findings.append(Finding(index + 1, hit.kind, hit.text, "text"))
                if ocr:
                    bitmap = page.render(
                        scale=VERIFY_DPI / 72, draw_annots=True, may_draw_forms=True
                    )
                    picture = bitmap.to_pil()
                    bitmap.close()
                    read = pages.ocr_page(picture, languages=languages, straighten=False)
                    seen, _spans = identifiers.join_words(read.words)
                    hits = blocking(identifiers.find(seen, identity))
                    hits += [
                        identifiers.Hit(h.kind, h.text, 0, 0, h.identity)
                        for h in identifiers.find_in_words(read.words, identity)
                        if h.kind == "name" and h.identity
                    ]
                    for hit in hits:
                        finding = Finding(index + 1, hit.kind, hit.text, "picture")
                        if finding not in findings:
                            findings.append(finding)
            finally:
                page.close()
    finally:
        document.close()
    return findings
