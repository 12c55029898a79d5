"""Redaction benchmark: proposals on typed and photographed letters, and verification.

    .venv/bin/python bench/redaction.py [--letters 20] [--photos 20]

Makes its own inputs: clinic letters (WeasyPrint, with a text layer) with identifiers planted
in many spellings, and 12 MP phone photos of the same letters (turned a few degrees, on a
table, unevenly lit). Reports pages per second for proposals from the text layer and by
OCR, for the verification pass over the partner copies, peak memory, and the detector's
recall and precision on the planted identifiers:
- recall: a planted identifier counts as found when the proposed boxes cover at least 90%
  of the ink box it occupies on the page (photos: mapped through the photo's turn, scale
  and our straightening);
- precision: the share of proposed boxes that lie on a planted identifier.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cases.casefile import verification as verify
from cases.records.redaction import pages, proposals
from tests import redaction_support as support

Box = tuple[int, int, int, int]


def covered(target: Box, boxes: list[Box], size: tuple[int, int]) -> float:
    """Share of ``target``'s core (ink band, not line spacing) under ``boxes``."""
    left, top, right, bottom = target
    shrink = (bottom - top) * 0.25
    core = (left + 2, round(top + shrink), right - 2, round(bottom - shrink))
    width, height = size
    mask = np.zeros((height, width), dtype=bool)
    pad = proposals.partner_copy.BOX_PADDING
    for b_left, b_top, b_right, b_bottom in boxes:
        mask[max(0, b_top - pad) : b_bottom + pad + 1, max(0, b_left - pad) : b_right + pad + 1] = (
            True
        )
    region = mask[max(0, core[1]) : core[3], max(0, core[0]) : core[2]]
    return float(region.mean()) if region.size else 0.0


def overlaps(box: Box, targets: list[Box]) -> bool:
    area = max(1, (box[2] - box[0]) * (box[3] - box[1]))
    for target in targets:
        width = min(box[2], target[2]) - max(box[0], target[0])
        height = min(box[3], target[3]) - max(box[1], target[1])
        if width > 0 and height > 0 and width * height >= 0.3 * area:
            return True
    return False


def score(planted: list[Box], proposed: list[Box], size: tuple[int, int]) -> tuple[int, int, int]:
    """(planted found, proposed boxes on a planted identifier, proposed boxes)."""
    found = sum(covered(target, proposed, size) >= 0.9 for target in planted)
    correct = sum(overlaps(box, planted) for box in proposed)
    return found, correct, len(proposed)


def to_photo_page(box: Box, photo: support.Photo, page: pages.Page, paper: tuple[int, int]) -> Box:
    """A box on the 200 dpi page, as it sits in our straightened copy of the photo."""
    factor = photo.render_dpi / pages.PDF_DPI * photo.scale
    turned_size = _turned_size((round(paper[0] * factor), round(paper[1] * factor)), photo.angle)
    downscale = page_scale(photo)
    corners = []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        px, py = support.rotate_point(
            x * factor,
            y * factor,
            photo.angle,
            (round(paper[0] * factor), round(paper[1] * factor)),
            turned_size,
        )
        px, py = (px + photo.offset[0]) * downscale, (py + photo.offset[1]) * downscale
        photo_size = (round(3000 * downscale), round(4000 * downscale))
        if page.skew:
            px, py = support.rotate_point(px, py, page.skew, photo_size, page.image.size)
        corners.append((px, py))
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return (round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys)))


def page_scale(photo: support.Photo) -> float:
    return min(1.0, pages.PHOTO_MAX_SIDE / 4000)


def _turned_size(size: tuple[int, int], angle: float) -> tuple[int, int]:
    from PIL import Image

    return Image.new("1", size).rotate(angle, expand=True).size


def make_inputs(work: Path, letters: int, photos: int) -> tuple[list[Path], list]:
    pdfs = [
        support.write_letter_pdf(support.letter(n), work / f"letter-{n}.pdf")
        for n in range(letters)
    ]
    shots = [support.photograph(pdfs[n], work / f"photo-{n}.jpg", seed=n) for n in range(photos)]
    return pdfs, shots


def cpu() -> float:
    """CPU seconds used by this process and its finished children (Tesseract)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=20)
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--inputs", type=Path, help="reuse the letters and photos made before")
    args = parser.parse_args()
    identity = support.IDENTITY
    work = args.inputs or Path(tempfile.mkdtemp(prefix="bench-redaction-"))

    print(f"Making {args.letters} typed letters and {args.photos} 12 MP photos in {work} …")
    letters = [support.letter(n) for n in range(max(args.letters, args.photos))]
    # Made in a child process, so the peak memory reported is the redaction's own.
    if args.inputs:
        pdfs = [work / f"letter-{n}.pdf" for n in range(len(letters))]
        photos = [
            support.photograph_again(work / f"photo-{n}.jpg", seed=n) for n in range(args.photos)
        ]
    else:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            pdfs, photos = pool.submit(make_inputs, work, len(letters), args.photos).result()

    # Typed letters: proposals from the text layer.
    found = correct = total = planted_count = 0
    truth: dict[int, tuple[list, tuple[int, int]]] = {}
    partner_pdfs: list[Path] = []
    missed: list[str] = []
    started, cpu_started = time.perf_counter(), cpu()
    text_pages = 0
    for item, pdf in zip(letters[: args.letters], pdfs, strict=False):
        for page, proposal in proposals.propose_pages(pdf, "pdf", identity):
            text_pages += 1
            boxes = [b.box for b in proposal.boxes]
            planted = support.planted_boxes(page, item)
            truth[item.number] = (planted, page.image.size)
            f, c, t = score([box for _p, box in planted], boxes, page.image.size)
            missed += [p.text for p, box in planted if covered(box, boxes, page.image.size) < 0.9]
            found, correct, total = found + f, correct + c, total + t
            planted_count += len(planted)
            output = work / f"partner-{item.number}.pdf"
            proposals.write_partner_copy(iter([(page.image, boxes)]), output)
            partner_pdfs.append(output)
    text_seconds, text_cpu = time.perf_counter() - started, cpu() - cpu_started
    text_recall, text_precision = found / max(planted_count, 1), correct / max(total, 1)

    for n in range(args.letters, args.photos):
        (typed,) = list(pages.pdf_pages(pdfs[n], ocr=False))
        truth[n] = (support.planted_boxes(typed, letters[n]), typed.image.size)

    # Photos: proposals by OCR.
    found = correct = total = planted_count = 0
    photo_missed: list[str] = []
    started, cpu_started = time.perf_counter(), cpu()
    for n, photo in enumerate(photos):
        for page, proposal in proposals.propose_pages(photo.path, "image", identity):
            boxes = [b.box for b in proposal.boxes]
            planted_on_page, paper = truth[n]
            mapped = [to_photo_page(box, photo, page, paper) for _p, box in planted_on_page]
            f, c, t = score(mapped, boxes, page.image.size)
            photo_missed += [
                planted.text
                for (planted, _b), box in zip(planted_on_page, mapped, strict=True)
                if covered(box, boxes, page.image.size) < 0.9
            ]
            found, correct, total = found + f, correct + c, total + t
            planted_count += len(mapped)
    photo_seconds, photo_cpu = time.perf_counter() - started, cpu() - cpu_started
    photo_recall, photo_precision = found / max(planted_count, 1), correct / max(total, 1)

    # Verification of the typed letters' partner copies (text + OCR of every page).
    started, cpu_started = time.perf_counter(), cpu()
    findings = []
    for pdf in partner_pdfs:
        findings += verify.verify_pdf(pdf, identity)
    verify_seconds, verify_cpu = time.perf_counter() - started, cpu() - cpu_started

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_photos, n_verified = max(len(photos), 1), max(len(partner_pdfs), 1)
    print()
    print("| measure | typed letters (text layer) | photos, 12 MP (OCR) |")
    print("| --- | --- | --- |")
    print(
        f"| proposals, wall clock | {text_seconds / max(text_pages, 1):.2f} s/page "
        f"({text_pages / text_seconds:.1f} pages/s) | {photo_seconds / n_photos:.2f} s/page "
        f"({n_photos / photo_seconds:.2f} pages/s) |"
    )
    print(
        f"| proposals, CPU | {text_cpu / max(text_pages, 1):.2f} s/page | "
        f"{photo_cpu / n_photos:.2f} s/page |"
    )
    print(f"| recall (planted identifiers boxed) | {text_recall:.1%} | {photo_recall:.1%} |")
    print(
        f"| precision (boxes on a planted identifier) | {text_precision:.1%} | "
        f"{photo_precision:.1%} |"
    )
    print(
        f"| verification of the partner copies (text + OCR) | {verify_seconds / n_verified:.2f} "
        f"s/page wall, {verify_cpu / n_verified:.2f} s/page CPU; {len(findings)} findings | |"
    )
    print(f"| peak memory of the process (inputs made in a child process) | {peak:.0f} MiB | |")
    if missed:
        print("Typed letters, missed:", sorted(set(missed)))
    if photo_missed:
        print("Photos, missed:", sorted(set(photo_missed)))
    if findings:
        print("Verification findings:", [str(f) for f in findings[:10]])


if __name__ == "__main__":
    main()
