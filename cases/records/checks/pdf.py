"""PDFs: kept as PDFs with active content removed; a first-page thumbnail."""

from __future__ import annotations

import errno
import logging
import resource
import subprocess
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pikepdf
from PIL import Image

from cases.records.checks.common import MAX_PDF_PAGES, THUMBNAIL_SIDE, CheckedRecord, RecordRejected
from cases.records.checks.images import _placeholder
from cases.records.checks.messages import (
    PDF_DAMAGED,
    PDF_LOCKED,
    PDF_NO_PAGES,
    PDF_PROTECTED,
    _too_many_pages_reason,
)

logger = logging.getLogger(__name__)


PDF_RENDER_TIMEOUT = 30  # seconds for pdftoppm to draw one page at thumbnail size
PDF_RENDER_MEMORY = 1024 * 1024 * 1024  # bytes of address space for pdftoppm
_PDF_ERRORS = (pikepdf.PdfError, RuntimeError)  # qpdf's complaints, as pikepdf raises them
_DANGEROUS_ACTIONS = {
    "/JavaScript": "JavaScript",
    "/Launch": "launch actions",
    "/SubmitForm": "form submission actions",
    "/ImportData": "data import actions",
    "/GoToR": "links to other files",
    "/GoToE": "links to embedded files",
    "/Rendition": "media actions",
    "/RichMediaExecute": "media actions",
}


_SAFE_LINK_SCHEMES = ("http://", "https://", "mailto:")
# Annotations that exist to carry someone's words (sticky notes, typed comments, their
# pop-ups): the words may name the patient and are not part of the record's page.
_TEXT_ANNOTATIONS = {"/Text", "/FreeText", "/Popup"}
_ANNOTATION_TEXT_KEYS = ("/Contents", "/RC", "/T", "/Subj")
_FIELD_VALUE_KEYS = ("/V", "/DV", "/AP", "/RV", "/TU", "/TM")


_DROPPED_ANNOTATIONS = {
    "/FileAttachment": "embedded files",
    "/RichMedia": "multimedia content",
    "/Screen": "multimedia content",
    "/Movie": "multimedia content",
    "/Sound": "multimedia content",
    "/3D": "multimedia content",
}


_WALK_LIMIT = 100_000  # outline items or form fields visited; a loop or a bomb stops here


def _check_pdf(source: Path, workdir: Path) -> CheckedRecord:
    derivative, thumbnail = workdir / "derivative.pdf", workdir / "thumbnail.jpg"
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError as error:
        raise RecordRejected(PDF_PROTECTED) from error
    except _PDF_ERRORS as error:
        raise RecordRejected(PDF_DAMAGED) from error
    with pdf:
        if pdf.is_encrypted:
            raise RecordRejected(PDF_LOCKED)
        try:
            pages = len(pdf.pages)
            if pages == 0:
                raise RecordRejected(PDF_NO_PAGES)
            if pages > MAX_PDF_PAGES:
                raise RecordRejected(_too_many_pages_reason(pages))
            removed = _strip_active_content(pdf)
            pdf.save(derivative, deterministic_id=True)
        except _PDF_ERRORS as error:
            raise RecordRejected(PDF_DAMAGED) from error
    if not _render_first_page(derivative, thumbnail):
        _placeholder("PDF", thumbnail, (300, THUMBNAIL_SIDE))
    return CheckedRecord(
        kind="pdf",
        sniffed_type="application/pdf",
        derivative=derivative,
        derivative_type="application/pdf",
        thumbnail=thumbnail,
        page_count=pages,
        metadata={"removed": removed},
    )


def _strip_active_content(pdf: pikepdf.Pdf) -> list[str]:
    """Remove everything that can run, launch, phone home or carry files; say what went."""
    removed: set[str] = set()
    root = pdf.Root

    open_action = root.get("/OpenAction")
    if isinstance(open_action, pikepdf.Dictionary) and (kinds := _dangerous_kinds(open_action)):
        del root["/OpenAction"]
        removed |= {"OpenAction", *kinds}
    if "/AA" in root:
        del root["/AA"]
        removed.add("additional actions")

    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        if "/JavaScript" in names:
            del names["/JavaScript"]
            removed.add("JavaScript")
        if "/EmbeddedFiles" in names:
            del names["/EmbeddedFiles"]
            removed.add("embedded files")
    if "/Collection" in root:  # a portfolio is only a frame around embedded files
        del root["/Collection"]
        removed.add("embedded files")

    for page in pdf.pages:
        if "/AA" in page.obj:
            del page.obj["/AA"]
            removed.add("additional actions")
        annotations = page.obj.get("/Annots")
        if isinstance(annotations, pikepdf.Array):
            kept = pikepdf.Array()
            for annotation in annotations:
                if not isinstance(annotation, pikepdf.Dictionary):
                    continue
                subtype = _name(annotation, "/Subtype")
                dropped = _DROPPED_ANNOTATIONS.get(subtype)
                if dropped:
                    removed.add(dropped)
                    continue
                if subtype in _TEXT_ANNOTATIONS:
                    continue  # comments are not the record, and may name the patient
                for key in _ANNOTATION_TEXT_KEYS:
                    if key in annotation:
                        del annotation[key]
                removed |= _strip_actions(annotation)
                kept.append(annotation)
            if len(kept) != len(annotations):
                page.obj.Annots = kept

    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary):
        if "/XFA" in form:
            del form["/XFA"]
            removed.add("XFA forms")
        if "/NeedsRendering" in form:
            del form["/NeedsRendering"]
        fields = form.get("/Fields")
        if isinstance(fields, pikepdf.Array):
            removed |= _strip_tree(list(fields), "/Kids")
            # What someone typed into a form (and its drawn appearance) may be a name.
            for node in _walk(list(fields), ("/Kids",)):
                for key in _FIELD_VALUE_KEYS:
                    if key in node:
                        del node[key]
        if "/NeedAppearances" in form:
            del form["/NeedAppearances"]

    outlines = root.get("/Outlines")
    if isinstance(outlines, pikepdf.Dictionary) and isinstance(
        first := outlines.get("/First"), pikepdf.Dictionary
    ):
        removed |= _strip_tree([first], "/First", "/Next")
    removed |= _sweep_objects(pdf)
    # Document information and XMP name authors, patients and software: none of it is the
    # record. (Not listed in "removed": nearly every PDF has some.)
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and "/Metadata" in obj:
            del obj["/Metadata"]
    if "/Metadata" in root:
        del root["/Metadata"]
    return sorted(removed)


def _sweep_objects(pdf: pikepdf.Pdf) -> set[str]:
    """Catch what the structured pass missed: files and actions hung in unusual places.

    Every indirect object is looked at, so an attachment referenced only from /AF (PDF 2.0
    "associated files") or an action reached through an odd key is still neutralised.
    """
    removed: set[str] = set()
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary):
            continue
        if "/EF" in obj:  # a file specification carrying the file's bytes
            del obj["/EF"]
            removed.add("embedded files")
        if "/AF" in obj:
            del obj["/AF"]
            removed.add("embedded files")
        if "/AA" in obj:
            del obj["/AA"]
            removed.add("additional actions")
        label = _action_label(obj)
        if label:
            for key in list(obj.keys()):
                del obj[key]  # an empty dictionary is an action that does nothing
            removed.add(label)
    return removed


def _name(node: pikepdf.Dictionary, key: str) -> str:
    """The PDF name under ``key`` ("/JavaScript"), or "" if it is missing or not a name."""
    value = node.get(key)
    if not isinstance(value, pikepdf.Name):
        return ""  # viewers only act on names, and a string here may not even be UTF-8
    try:
        return str(value)
    except UnicodeDecodeError:
        return ""


def _strip_actions(node: pikepdf.Dictionary) -> set[str]:
    """Drop a node's automatic actions and any dangerous click action."""
    removed: set[str] = set()
    if "/AA" in node:
        del node["/AA"]
        removed.add("additional actions")
    action = node.get("/A")
    if isinstance(action, pikepdf.Dictionary) and (kinds := _dangerous_kinds(action)):
        del node["/A"]
        removed |= kinds
    return removed


def _strip_tree(start: list, *links: str) -> set[str]:
    """Strip actions from every node reachable through ``links`` (form fields, bookmarks)."""
    removed: set[str] = set()
    for node in _walk(start, links):
        removed |= _strip_actions(node)
    return removed


def _walk(start: list, links: tuple[str, ...]) -> Iterator[pikepdf.Dictionary]:
    """Yield dictionaries reachable through ``links`` once each, with a cap against bombs."""
    pending, seen, visits = list(start), set(), 0
    while pending and visits < _WALK_LIMIT:
        node = pending.pop()
        visits += 1
        if not isinstance(node, pikepdf.Dictionary):
            continue
        # Only indirect objects can form loops; direct ones are visited as found.
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        yield node
        for link in links:
            child = node.get(link)
            if isinstance(child, pikepdf.Array):
                pending.extend(child)
            elif child is not None:
                pending.append(child)


def _action_label(node: pikepdf.Dictionary) -> str:
    """What is dangerous about this action, or "" (a web or mail link is fine)."""
    kind = _name(node, "/S")
    if kind == "/URI":
        uri = node.get("/URI")
        try:
            target = bytes(uri).decode("latin-1").strip().lower() if uri is not None else ""
        except (TypeError, ValueError):
            target = ""
        # javascript:, file:, data: and the like run or fetch something; only plain web
        # and mail links stay.
        return "" if target.startswith(_SAFE_LINK_SCHEMES) else "unsafe links"
    return _DANGEROUS_ACTIONS.get(kind, "")


def _dangerous_kinds(action: pikepdf.Dictionary) -> set[str]:
    """Labels for the dangerous action types in ``action`` and its /Next chain."""
    kinds: set[str] = set()
    for node in _walk([action], ("/Next",)):
        label = _action_label(node)
        if label:
            kinds.add(label)
    return kinds


def _limit_renderer() -> None:
    """Run in the pdftoppm child: cap its memory so a hostile PDF cannot starve the worker."""
    # Not every platform allows it; the timeout still applies.
    with suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (PDF_RENDER_MEMORY, PDF_RENDER_MEMORY))


def _render_first_page(pdf_path: Path, thumbnail: Path) -> bool:
    """Draw page 1 with pdftoppm into ``thumbnail``; False if it could not."""
    command = [
        "pdftoppm",
        "-jpeg",
        "-r",
        "50",
        "-f",
        "1",
        "-l",
        "1",
        "-scale-to",
        str(THUMBNAIL_SIDE),
        "-singlefile",
        str(pdf_path.resolve()),
        str(thumbnail.resolve().with_suffix("")),  # pdftoppm adds ".jpg"
    ]
    try:
        subprocess.run(
            command,
            check=True,
            capture_output=True,
            timeout=PDF_RENDER_TIMEOUT,
            preexec_fn=_limit_renderer,  # the prefork worker runs one task per process
        )
    except FileNotFoundError:
        logger.warning("pdftoppm is not installed; using a placeholder PDF thumbnail")
        return False
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        logger.info("pdftoppm could not draw %s: %s", pdf_path.name, error)
        return False
    try:
        with Image.open(thumbnail, formats=["JPEG"]) as drawn:
            return max(drawn.size) <= THUMBNAIL_SIDE
    except OSError as error:
        if error.errno is not None and error.errno != errno.ENOENT:
            raise
        return False
