"""Proposed boxes for one record: pages, the identifiers on them, and the partner copy.

Pure functions over files: the Celery task and the operator command call these, and so
do the benchmark and the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from PIL import Image

from cases.domain.identifiers import Identity, Word, find_in_words
from cases.records.redaction import pages, partner_copy


@dataclass
class ProposedBox:
    box: tuple[int, int, int, int]
    kind: str
    text: str
    identity: bool  # the case's own identifier
    source: str = "detector"  # "detector" | "coordinator"


@dataclass
class PageProposal:
    number: int
    width: int
    height: int
    source: str  # where the words came from: "text", "ocr", "text+ocr"
    unreadable: bool
    boxes: list[ProposedBox] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)

    def as_json(self) -> dict:
        data = asdict(self)
        data["words"] = [{"text": w.text, "box": list(w.box)} for w in self.words]
        data["boxes"] = [{**asdict(b), "box": list(b.box)} for b in self.boxes]
        return data


def boxes_for(page: pages.Page, identity: Identity) -> list[ProposedBox]:
    """One box per identifier and line, covering the words it spans."""
    proposed: list[ProposedBox] = []
    for hit in find_in_words(page.words, identity):
        by_line: dict[int, list[tuple[int, int, int, int]]] = {}
        for index in hit.words:
            word = page.words[index]
            by_line.setdefault(word.line, []).append(word.box)
        for boxes in by_line.values():
            union = (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
            proposed.append(ProposedBox(union, hit.kind, hit.text, hit.identity))
    return proposed


def propose_pages(
    path: Path,
    kind: str,
    identity: Identity,
    *,
    dpi: int = pages.PDF_DPI,
    first: int = 1,
    last: int | None = None,
) -> Iterator[tuple[pages.Page, PageProposal]]:
    """Each page of a record (``kind`` "pdf" or "image") with its proposed boxes."""
    languages = pages.languages_for(*identity.names)
    if kind == "pdf":
        source = pages.pdf_pages(path, dpi=dpi, languages=languages, first=first, last=last)
    else:
        source = iter([pages.photo_page(path, languages=languages)])
    for page in source:
        width, height = page.image.size
        proposal = PageProposal(
            number=page.number,
            width=width,
            height=height,
            source=page.source,
            unreadable=page.unreadable,
            boxes=boxes_for(page, identity),
            words=page.words,
        )
        yield page, proposal


def write_partner_copy(
    pictures: Iterator[tuple[Image.Image, list[tuple[int, int, int, int]]]],
    output: Path,
    *,
    dpi: int = pages.PDF_DPI,
) -> int:
    """Burn the boxes into each page picture and write the image-only PDF."""
    return partner_copy.write_image_pdf(
        ((partner_copy.burn_boxes(image, boxes), dpi) for image, boxes in pictures), output
    )
