"""Checks on uploaded medical records: what a file really is, and a clean copy safe to keep.

Plain functions, no models and no database. Every problem with the file itself becomes
``RecordRejected`` with a reason the uploader can act on; anything else (a full disk, a bug)
propagates unchanged so the Celery task can retry or fail loudly.

Choices worth knowing:

* Type comes from the content only (libmagic, plus a few magic-byte checks), never the name.
* Images are decoded and re-encoded into a new file: no EXIF, GPS, XMP, comments, text chunks
  or ICC profile (colours are converted to sRGB first), and nothing appended survives.
  PNG stays PNG (and a bilevel fax-style TIFF becomes PNG, which keeps it sharp and small);
  everything else becomes a JPEG.
* A multi-page TIFF (common for scanned letters and faxes) becomes a PDF with every page, so
  no page is silently lost: ``kind`` stays "image", ``derivative_type`` is "application/pdf".
* PDFs are kept as PDFs with active content (scripts, launch actions, attachments, XFA)
  removed. Encrypted PDFs, even ones locked only against editing, are rejected.
* DICOM files are kept byte for byte except the 128-byte preamble, which is zeroed because
  it can smuggle a program (a PE/DICOM polyglot). A DICOM without pixel data, or whose
  compression we cannot decode, or too large to preview, is accepted with a placeholder
  preview (``metadata["preview_available"]`` is False): the file is still useful to the
  doctors' own viewers. A DICOMDIR (a CD's index file, not a scan) is rejected.
"""

from __future__ import annotations

import errno
import io
import logging
import resource
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import magic
import numpy as np
import pikepdf
import pillow_heif
import pydicom
from PIL import Image, ImageCms, ImageDraw, ImageFile, ImageFont, ImageOps
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_rescale, apply_voi_lut, get_decoder, pixel_array
from pydicom.uid import MediaStorageDirectoryStorage

pillow_heif.register_heif_opener()

logger = logging.getLogger(__name__)

ALLOWED = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/heic",
    "image/heif",
    "image/webp",
    "image/tiff",
    "application/dicom",
}
MAX_PIXELS = 50_000_000  # explicit decompression-bomb limit, checked before any pixel is decoded
MAX_PDF_PAGES = 2000

THUMBNAIL_SIDE = 400
PREVIEW_SIDE = 2048  # DICOM preview for a browser; the doctors read the DICOM itself
JPEG_QUALITY = 90
THUMBNAIL_QUALITY = 80
PDF_RENDER_TIMEOUT = 30  # seconds for pdftoppm to draw one page at thumbnail size
PDF_RENDER_MEMORY = 1024 * 1024 * 1024  # bytes of address space for pdftoppm
PDF_PAGE_LONG_SIDE = 842  # points: A4's long side, so combined photos print sensibly
PDF_IMAGE_LONG_SIDE = 3508  # pixels: A4 at 300 dpi, plenty to read a letter

ACCEPTED_TYPES_TEXT = "PDF, JPEG, PNG, HEIC (iPhone photos), WebP, TIFF or DICOM"

EMPTY = (
    "The file is empty. Please check you chose the right file and upload it again. If it came "
    "from an email or a website, save it to your device first, then upload the saved copy."
)
DAMAGED_PHOTO = (
    "The photo seems to be cut off or damaged, so we cannot open it. Please upload the original "
    "again (if it came from an email or a website, save it to your device again first), or take "
    "a new photo."
)
UNREADABLE_IMAGE = (
    "We could not open this picture: it seems to be damaged, or it is not really a picture. "
    "Please open it on your device to check it shows correctly, then save or export it again "
    "as a JPEG or PNG and upload that copy."
)
TOO_LARGE = (
    f"This picture is too large for us to process: it has more than "
    f"{MAX_PIXELS // 1_000_000} million pixels. Please upload a smaller copy, for example "
    "scanned at 300 dpi or exported at a lower resolution."
)
PDF_PROTECTED = (
    "This PDF is protected by a password. Please upload a copy without a password — for "
    'example, open it with its password, choose Print, then "Save as PDF" (or "Microsoft Print '
    'to PDF"), and upload the new file.'
)
PDF_LOCKED = (
    "This PDF is protected by a password. Please upload a copy without a password — it is "
    "locked against changes, which stops us preparing it for your doctors. Open it, choose "
    'Print, then "Save as PDF" (or "Microsoft Print to PDF") and upload the new file, or ask '
    "whoever sent it to you for an unlocked copy."
)
PDF_DAMAGED = (
    "This PDF seems to be damaged or incomplete, so we cannot open it. Please download or save "
    'it again and upload the new copy. If that does not work, open it, choose Print, then "Save '
    'as PDF", and upload that copy.'
)
PDF_NO_PAGES = "This PDF has no pages. Please check you chose the right file and upload it again."
DICOM_DAMAGED = (
    "This DICOM scan file seems to be damaged or incomplete, so we cannot read it. Please copy "
    "it again from the CD (or download it again) and upload the new copy."
)
DICOMDIR = (
    "This is the index file (DICOMDIR) from an imaging CD, not a scan. Please upload the image "
    "files from the CD's DICOM folder instead."
)
TOO_MANY_PHOTOS = (
    f"Together these make more than {MAX_PDF_PAGES} pages, which is more than we can put in one "
    "PDF. Please combine them in smaller groups."
)
NOT_A_PHOTO = (
    "Only photos and scans (JPEG, PNG, HEIC, WebP or TIFF) can be combined into one PDF. "
    "Please upload other files separately."
)

_PIL_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
    "image/webp": "WEBP",
    "image/tiff": "TIFF",
}
# libmagic spells some types differently across versions; fold them onto ours.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/heic-sequence": "image/heic",
    "image/heif-sequence": "image/heif",
    "application/x-pdf": "application/pdf",
}
# Answers too vague to act on: look at the magic bytes ourselves.
_VAGUE = {"application/octet-stream", "video/quicktime", "video/mp4", "audio/mp4"}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_UNPACK = f"Please unzip it and upload the files inside: we accept {ACCEPTED_TYPES_TEXT} files."
# Names people recognise for common wrong files, and advice when the general advice is wrong.
_FRIENDLY = {
    "application/x-dosexec": ("a Windows program", ""),
    "application/vnd.microsoft.portable-executable": ("a Windows program", ""),
    "application/x-msdownload": ("a Windows program", ""),
    "application/x-executable": ("a program", ""),
    "application/x-sharedlib": ("a program", ""),
    "application/x-mach-binary": ("a program", ""),
    "text/html": ("a web page", ""),
    "image/svg+xml": ("an SVG drawing", ""),
    "text/plain": ("a plain text file", ""),
    "image/gif": ("a GIF image", ""),
    "image/bmp": ("a BMP image", ""),
    "image/x-ms-bmp": ("a BMP image", ""),
    "image/avif": ("an AVIF image", ""),
    "application/msword": ("a Word document", ""),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "a Word document",
        "",
    ),
    "application/zip": ("a ZIP archive", _UNPACK),
    "application/x-rar": ("a RAR archive", _UNPACK),
    "application/x-7z-compressed": ("a 7-Zip archive", _UNPACK),
}

# What decoders raise about bad input. An OSError only counts when it carries no errno:
# decoders raise bare OSErrors, while a full disk or a missing file sets one.
_IMAGE_ERRORS: tuple[type[BaseException], ...] = (
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    NotImplementedError,
)
_DICOM_ERRORS = (
    *_IMAGE_ERRORS,
    InvalidDicomError,
    BytesLengthException,
    AttributeError,
    RuntimeError,
)
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
_DROPPED_ANNOTATIONS = {
    "/FileAttachment": "embedded files",
    "/RichMedia": "multimedia content",
    "/Screen": "multimedia content",
    "/Movie": "multimedia content",
    "/Sound": "multimedia content",
    "/3D": "multimedia content",
}
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
_WALK_LIMIT = 100_000  # outline items or form fields visited; a loop or a bomb stops here

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class RecordRejected(Exception):
    """A file we will not accept; .reason is plain English the uploader can read and act on."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class CheckedRecord:
    kind: str  # "pdf" | "image" | "dicom"
    sniffed_type: str  # MIME from content, e.g. "image/heic"
    derivative: Path  # the cleaned file to keep and serve
    derivative_type: str
    thumbnail: Path  # JPEG, longest side at most 400 px
    page_count: int | None = None
    metadata: dict = field(default_factory=dict)  # JSON-safe, never identifying
    preview: Path | None = None  # DICOM only: a JPEG to look at


def sniff_type(path: Path) -> str:
    """Return the MIME type the content says, ignoring the file name entirely."""
    with Path(path).open("rb") as handle:
        head = handle.read(512)
    # DICOM's signature sits after a free 128-byte preamble, which can hold anything (even
    # another format's header); a DICOM reader only trusts the signature, so neither do we.
    if head[128:132] == b"DICM":
        return "application/dicom"
    try:
        mime = magic.from_file(str(path), mime=True)
    except magic.MagicException:
        mime = "application/octet-stream"
    mime = _ALIASES.get(mime, mime)
    if mime in _VAGUE:
        return _type_from_signature(head) or mime
    return mime


@contextmanager
def _strict_decoding():
    """Refuse truncated images while checking, whatever other code set.

    WeasyPrint sets ``ImageFile.LOAD_TRUNCATED_IMAGES = True`` when it is imported, and
    the worker imports it for case files; a cut-off photo must still be refused here.
    """
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def record_check(source: Path, workdir: Path) -> CheckedRecord:
    """Check one uploaded file and write its clean copy and thumbnail into ``workdir``.

    Raises ``RecordRejected`` when the file itself is the problem.
    """
    with _strict_decoding():
        return _record_check(Path(source), Path(workdir))


def _record_check(source: Path, workdir: Path) -> CheckedRecord:
    if source.stat().st_size == 0:
        raise RecordRejected(EMPTY)
    sniffed = sniff_type(source)
    if sniffed not in ALLOWED:
        raise RecordRejected(_not_accepted(sniffed))
    workdir.mkdir(parents=True, exist_ok=True)
    if sniffed == "application/pdf":
        return _check_pdf(source, workdir)
    if sniffed == "application/dicom":
        return _check_dicom(source, workdir)
    return _check_image(source, sniffed, workdir)


def images_to_pdf(images: list[Path], output: Path) -> int:
    """Combine photos (e.g. the pages of a letter) into one PDF at ``output``; return its pages.

    Each photo is checked like an upload and turned upright; nothing from its metadata is
    kept. A multi-page TIFF contributes all its pages.
    """
    if not images:
        raise ValueError("images_to_pdf needs at least one image")
    with _strict_decoding():
        return _images_to_pdf(images, output)


def _images_to_pdf(images: list[Path], output: Path) -> int:
    pdf = pikepdf.new()
    for number, path in enumerate(images, start=1):
        try:
            for frame in _photo_frames(Path(path)):
                if len(pdf.pages) == MAX_PDF_PAGES:
                    raise RecordRejected(TOO_MANY_PHOTOS)
                _add_pdf_page(pdf, frame)
        except RecordRejected as rejected:
            if rejected.reason == TOO_MANY_PHOTOS:
                raise
            raise RecordRejected(f"Photo {number} of {len(images)}: {rejected.reason}") from None
    pdf.save(Path(output), deterministic_id=True)
    return len(pdf.pages)


# --- sniffing ---------------------------------------------------------------------------------


def _type_from_signature(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        box_end = min(int.from_bytes(head[:4], "big"), len(head))
        compatible = {head[i : i + 4] for i in range(16, box_end - 3, 4)}
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand == b"avif" or b"avif" in compatible:
            return "image/avif"  # HEIF's container, but a codec we do not decode
        if brand in _HEIF_BRANDS:
            return "image/heif"
    return None


def _not_accepted(sniffed: str) -> str:
    family = sniffed.split("/")[0]
    name, hint = _FRIENDLY.get(sniffed, ("", ""))
    if not name and family in ("video", "audio"):
        name = "a video" if family == "video" else "a sound recording"
    if name:
        opening = f"We cannot accept this file: it looks like {name}, not a record we can read."
    else:
        opening = "We cannot accept this type of file."
    advice = hint or (
        f"Please upload a {ACCEPTED_TYPES_TEXT} file. If your record is a Word document or "
        "another kind of file, save or print it as a PDF first."
    )
    return f"{opening} {advice}"


# --- images -----------------------------------------------------------------------------------


@contextmanager
def _reading(
    reason: str, errors: tuple[type[BaseException], ...] = _IMAGE_ERRORS
) -> Iterator[None]:
    """Turn a decoder's complaint about the file into RecordRejected(reason)."""
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own guard fires inside Image.open for really huge sizes; same answer.
        raise RecordRejected(TOO_LARGE) from error
    except OSError as error:
        if error.errno is not None:
            raise
        raise RecordRejected(reason) from error
    except errors as error:
        raise RecordRejected(reason) from error


def _check_image(source: Path, sniffed: str, workdir: Path) -> CheckedRecord:
    thumbnail = workdir / "thumbnail.jpg"
    with _open_image(source, sniffed) as img:
        pages = _page_count(img, sniffed)
        if pages > 1:
            return _check_multipage(img, sniffed, pages, workdir)
        _decode_upright(img)
        width, height = img.size
        # Bilevel scans keep their hard edges in PNG, and are far smaller than as JPEG.
        lossless = sniffed == "image/png" or img.mode == "1"
        clean = _clean_pixels(img, lossless=lossless)
        if lossless:
            derivative, derivative_type = workdir / "derivative.png", "image/png"
            _save_clean(clean, derivative, format="PNG")
        else:
            derivative, derivative_type = workdir / "derivative.jpg", "image/jpeg"
            _save_clean(clean, derivative, format="JPEG", quality=JPEG_QUALITY)
        _save_thumbnail(clean, thumbnail)
    return CheckedRecord(
        kind="image",
        sniffed_type=sniffed,
        derivative=derivative,
        derivative_type=derivative_type,
        thumbnail=thumbnail,
        metadata={"width": width, "height": height},
    )


def _check_multipage(img: Image.Image, sniffed: str, pages: int, workdir: Path) -> CheckedRecord:
    """A multi-page TIFF becomes a PDF, so no page of a scanned letter is lost."""
    derivative, thumbnail = workdir / "derivative.pdf", workdir / "thumbnail.jpg"
    pdf = pikepdf.new()
    width = height = 0
    for index, frame in enumerate(_decoded_frames(img, pages)):
        if index == 0:
            width, height = frame.size
            _save_thumbnail(frame, thumbnail)
        _add_pdf_page(pdf, frame)
    pdf.save(derivative, deterministic_id=True)
    return CheckedRecord(
        kind="image",
        sniffed_type=sniffed,
        derivative=derivative,
        derivative_type="application/pdf",
        thumbnail=thumbnail,
        page_count=pages,
        metadata={"width": width, "height": height, "pages": pages},
    )


def _open_image(path: Path, sniffed: str) -> Image.Image:
    """Open (header only) with the one decoder the content calls for."""
    with _reading(UNREADABLE_IMAGE):
        img = Image.open(path, formats=[_PIL_FORMATS[sniffed]])
    try:
        _check_pixel_count(img)
    except RecordRejected:
        img.close()
        raise
    return img


def _page_count(img: Image.Image, sniffed: str) -> int:
    """Pages we keep: every page of a TIFF; the first frame of anything else."""
    if sniffed != "image/tiff":
        return 1  # an animated WebP or a HEIC burst: the first picture is the record
    with _reading(UNREADABLE_IMAGE):
        pages = img.n_frames
    if pages > MAX_PDF_PAGES:
        raise RecordRejected(_too_many_pages_reason(pages, "TIFF file"))
    return pages


def _decoded_frames(img: Image.Image, pages: int) -> Iterator[Image.Image]:
    for index in range(pages):
        if index:
            with _reading(DAMAGED_PHOTO):
                img.seek(index)
        _decode_upright(img)
        yield img


def _photo_frames(path: Path) -> Iterator[Image.Image]:
    """Check one photo like an upload and yield its decoded, upright pages."""
    if path.stat().st_size == 0:
        raise RecordRejected(EMPTY)
    sniffed = sniff_type(path)
    if sniffed not in _PIL_FORMATS:
        raise RecordRejected(NOT_A_PHOTO if sniffed in ALLOWED else _not_accepted(sniffed))
    with _open_image(path, sniffed) as img:
        yield from _decoded_frames(img, _page_count(img, sniffed))


def _check_pixel_count(img: Image.Image) -> None:
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise RecordRejected(TOO_LARGE)


def _decode_upright(img: Image.Image) -> None:
    """Decode the current frame's pixels (size checked first) and apply its EXIF rotation."""
    _check_pixel_count(img)
    with _reading(DAMAGED_PHOTO):
        img.load()
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except OSError as error:
        if error.errno is not None:
            raise
    except _IMAGE_ERRORS:
        # A broken EXIF block should not cost the patient their photo; it may stay sideways.
        logger.info("Ignoring unreadable EXIF orientation", exc_info=True)


def _clean_pixels(img: Image.Image, *, lossless: bool) -> Image.Image:
    """Return just the pixels, in sRGB and a mode the output format stores, with no metadata."""
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("RGB", "RGBA", "CMYK"):
        img = _to_srgb(img, icc)
    if lossless:
        if img.mode == "P" and "transparency" in img.info:
            img = img.convert("RGBA")
        elif img.mode not in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"):
            img = _eight_bit(img)
    else:
        img = _flatten(_eight_bit(img))
    return img


def _save_clean(img: Image.Image, output: Path | io.BytesIO, **params: object) -> None:
    """Save pixels only: Pillow copies some of .info (comments, ICC, XMP) into new files."""
    info, img.info = img.info, {}
    try:
        img.save(output, **params)
    finally:
        img.info = info


def _to_srgb(img: Image.Image, icc: bytes) -> Image.Image:
    """Convert to sRGB so the profile can be dropped without shifting colours."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "sRGB" in ImageCms.getProfileDescription(profile):
            return img
        mode = "RGBA" if img.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(img, profile, _SRGB, outputMode=mode) or img
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # An unusable profile: the pixels are still fine as they are.
        return img


def _eight_bit(img: Image.Image) -> Image.Image:
    """Return an 8-bit L, LA, RGB or RGBA version of any mode."""
    if img.mode in ("L", "LA", "RGB", "RGBA"):
        return img
    if img.mode == "1":
        return img.convert("L")
    if img.mode in ("P", "PA"):
        return img.convert("RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB")
    if img.mode.startswith("I") or img.mode == "F":
        # Stretch the used range: a plain convert would clip 16-bit scans to white.
        wide = img.convert("F")
        low, high = wide.getextrema()
        scale = 255.0 / (high - low) if high > low else 0.0
        return wide.point(lambda value: value * scale - low * scale).convert("L")
    if img.mode in ("RGBa", "La"):
        return img.convert(img.mode.upper())
    with _reading(UNREADABLE_IMAGE):  # e.g. LAB, which Pillow cannot turn into RGB
        return img.convert("RGB")


def _flatten(img: Image.Image) -> Image.Image:
    """Put transparent pixels on white (JPEG has no alpha, and black would hide text)."""
    if img.mode not in ("RGBA", "LA"):
        return img
    background = Image.new(img.mode[:-1], img.size, "white")
    background.paste(img, mask=img.getchannel("A"))
    return background


def _save_thumbnail(img: Image.Image, output: Path) -> None:
    """Save a JPEG no longer than THUMBNAIL_SIDE on either side, leaving ``img`` untouched."""
    small = _eight_bit(img)
    width, height = small.size
    scale = THUMBNAIL_SIDE / max(width, height)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # reducing_gap lets Pillow shrink by whole blocks first: ~10 ms for 12 megapixels.
        small = small.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    _save_clean(_flatten(small), output, format="JPEG", quality=THUMBNAIL_QUALITY)


def _add_pdf_page(pdf: pikepdf.Pdf, img: Image.Image) -> None:
    """Append a page that shows ``img`` filling it, sized so the long side is A4's."""
    if img.mode == "1" and max(img.size) <= PDF_IMAGE_LONG_SIDE:
        # Bilevel scans: 1 bit per pixel with Flate, as fax-style TIFFs are stored.
        width, height = img.size
        data, filter_, bits = zlib.compress(img.tobytes()), "/FlateDecode", 1
        colours = "/DeviceGray"
    else:
        page = _flatten(_eight_bit(img))
        if max(page.size) > PDF_IMAGE_LONG_SIDE:
            page = page.copy()
            page.thumbnail((PDF_IMAGE_LONG_SIDE, PDF_IMAGE_LONG_SIDE), reducing_gap=2.0)
        buffer = io.BytesIO()
        _save_clean(page, buffer, format="JPEG", quality=JPEG_QUALITY)
        width, height = page.size
        data, filter_, bits = buffer.getvalue(), "/DCTDecode", 8
        colours = "/DeviceGray" if page.mode == "L" else "/DeviceRGB"
    image = pikepdf.Stream(pdf, data)
    image.Type = pikepdf.Name.XObject
    image.Subtype = pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = width, height, bits
    image.ColorSpace = pikepdf.Name(colours)
    image.Filter = pikepdf.Name(filter_)
    scale = PDF_PAGE_LONG_SIDE / max(width, height)
    page_width, page_height = round(width * scale, 2), round(height * scale, 2)
    blank = pdf.add_blank_page(page_size=(page_width, page_height))
    blank.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    blank.Contents = pdf.make_stream(f"q {page_width} 0 0 {page_height} 0 0 cm /Im0 Do Q".encode())


def _placeholder(label: str, output: Path, size: tuple[int, int]) -> None:
    """A neutral grey card with a word on it, for files we cannot draw."""
    card = Image.new("RGB", size, (238, 241, 244))
    draw = ImageDraw.Draw(card)
    font = ImageFont.load_default(size=size[0] // 5)
    left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
    position = ((size[0] - (right - left)) / 2 - left, (size[1] - (bottom - top)) / 2 - top)
    draw.text(position, label, fill=(70, 80, 95), font=font)
    card.save(output, format="JPEG", quality=THUMBNAIL_QUALITY)


# --- PDF --------------------------------------------------------------------------------------


def _too_many_pages_reason(pages: int, what: str = "PDF") -> str:
    return (
        f"This {what} has {pages} pages; we can accept up to {MAX_PDF_PAGES} pages in one file. "
        "Please split it into smaller files and upload them separately."
    )


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
                dropped = _DROPPED_ANNOTATIONS.get(_name(annotation, "/Subtype"))
                if dropped:
                    removed.add(dropped)
                    continue
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

    outlines = root.get("/Outlines")
    if isinstance(outlines, pikepdf.Dictionary) and isinstance(
        first := outlines.get("/First"), pikepdf.Dictionary
    ):
        removed |= _strip_tree([first], "/First", "/Next")
    removed |= _sweep_objects(pdf)
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
        label = _DANGEROUS_ACTIONS.get(_name(obj, "/S"))
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


def _dangerous_kinds(action: pikepdf.Dictionary) -> set[str]:
    """Labels for the dangerous action types in ``action`` and its /Next chain."""
    kinds: set[str] = set()
    for node in _walk([action], ("/Next",)):
        label = _DANGEROUS_ACTIONS.get(_name(node, "/S"))
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


# --- DICOM ------------------------------------------------------------------------------------


def _check_dicom(source: Path, workdir: Path) -> CheckedRecord:
    derivative = workdir / "derivative.dcm"
    preview, thumbnail = workdir / "preview.jpg", workdir / "thumbnail.jpg"
    with _reading(DICOM_DAMAGED, _DICOM_ERRORS):
        # Large values (the pixel data) stay on disk until asked for.
        dataset = pydicom.dcmread(source, force=False, defer_size="1 MB")
        meta = dataset.file_meta
        sop_class = str(meta.get("MediaStorageSOPClassUID") or dataset.get("SOPClassUID") or "")
        # A real Part 10 file names its encoding and what it holds; garbage after "DICM" does not.
        if not meta.get("TransferSyntaxUID") or not sop_class:
            raise RecordRejected(DICOM_DAMAGED)
        if sop_class == MediaStorageDirectoryStorage or ("DirectoryRecordSequence" in dataset):
            raise RecordRejected(DICOMDIR)
        has_pixels = any(keyword in dataset for keyword in _PIXEL_KEYWORDS)
        preamble = bytes(dataset.preamble or b"")
    metadata: dict = {
        "modality": _dicom_text(dataset, "Modality"),
        "study_date": _dicom_date(dataset, "StudyDate"),
        "body_part": _dicom_text(dataset, "BodyPartExamined"),
        "frames": _dicom_frames(dataset) if has_pixels else 0,
        "removed": [],
    }
    image = _dicom_image(source, dataset) if has_pixels else None
    metadata["preview_available"] = image is not None

    shutil.copyfile(source, derivative)
    if any(preamble):
        # The preamble is free space that can hold another format's header (even a Windows
        # program's); DICOM readers ignore it, so zeroing it costs nothing.
        with derivative.open("r+b") as handle:
            handle.write(bytes(len(preamble)))
        metadata["removed"].append("preamble contents")

    if image is None:
        _placeholder("DICOM", preview, (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        _placeholder("DICOM", thumbnail, (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    else:
        _save_clean(image, preview, format="JPEG", quality=JPEG_QUALITY)
        _save_thumbnail(image, thumbnail)
    return CheckedRecord(
        kind="dicom",
        sniffed_type="application/dicom",
        derivative=derivative,
        derivative_type="application/dicom",
        thumbnail=thumbnail,
        metadata=metadata,
        preview=preview,
    )


def _dicom_text(dataset: pydicom.Dataset, keyword: str) -> str:
    """A short, plain string for a coded (non-identifying) element, or ""."""
    try:
        value = dataset.get(keyword)
    except _DICOM_ERRORS:
        return ""
    if value is None:
        return ""
    if isinstance(value, MultiValue):
        value = "\\".join(str(item) for item in value)
    return str(value).strip()[:64]


def _dicom_date(dataset: pydicom.Dataset, keyword: str) -> str:
    text = _dicom_text(dataset, keyword).replace(".", "")  # old ACR-NEMA wrote 2024.01.31
    try:
        return datetime.strptime(text[:8], "%Y%m%d").date().isoformat()
    except ValueError:
        return ""


def _dicom_frames(dataset: pydicom.Dataset) -> int:
    try:
        return max(1, int(dataset.get("NumberOfFrames") or 1))
    except _DICOM_ERRORS:
        return 1


def _dicom_image(source: Path, dataset: pydicom.Dataset) -> Image.Image | None:
    """An 8-bit picture of the first frame, or None if we cannot draw this (valid) file."""
    with _reading(DICOM_DAMAGED, _DICOM_ERRORS):
        rows, columns = int(dataset.Rows), int(dataset.Columns)
        transfer_syntax = dataset.file_meta.TransferSyntaxUID
    if rows * columns > MAX_PIXELS:
        return None
    try:
        decoder = get_decoder(transfer_syntax)
    except NotImplementedError:
        return None
    if not decoder.is_available:
        return None  # e.g. JPEG Lossless needs a plugin we do not ship
    with _reading(DICOM_DAMAGED, _DICOM_ERRORS):
        # Only the first frame is decoded, read straight from the file.
        frame = pixel_array(str(source), index=0)
    try:
        return _dicom_picture(frame, dataset)
    except (*_DICOM_ERRORS, OSError):
        # The pixels decoded, so the file is sound; we just cannot draw this layout.
        logger.warning("Could not draw a DICOM preview", exc_info=True)
        return None


def _dicom_picture(frame: np.ndarray, dataset: pydicom.Dataset) -> Image.Image:
    """Window (when the file says how), stretch to 8 bits, and make an L or RGB image."""
    step = max(1, max(frame.shape[:2]) // (2 * PREVIEW_SIDE))
    frame = frame[::step, ::step]  # big images: decimate before any float maths
    photometric = str(dataset.get("PhotometricInterpretation", "")).upper()
    if photometric == "PALETTE COLOR":
        frame = apply_color_lut(frame, dataset)
    elif frame.ndim == 2:
        try:
            frame = apply_voi_lut(apply_rescale(frame, dataset), dataset)
        except _DICOM_ERRORS:
            logger.info("Ignoring unusable DICOM windowing", exc_info=True)
    if frame.ndim == 3:
        frame = frame[..., :3]
    if frame.ndim == 2 or frame.dtype != np.uint8:
        frame = _stretch(frame)
    if photometric == "MONOCHROME1":  # 0 means white in this interpretation
        frame = 255 - frame
    picture = Image.fromarray(np.ascontiguousarray(frame))
    picture.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), reducing_gap=2.0)
    return picture


def _stretch(values: np.ndarray) -> np.ndarray:
    """Map the used range linearly onto 0..255."""
    values = values.astype(np.float32)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    scaled = (np.nan_to_num(values, nan=low) - low) * (255.0 / (high - low))
    return np.clip(scaled, 0, 255).astype(np.uint8)
