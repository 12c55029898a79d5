"""Photos and scans: decoded and re-encoded clean. Multi-page TIFFs and combined photos
become PDFs."""

from __future__ import annotations

import io
import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pikepdf
import pillow_heif
from PIL import Image, ImageCms, ImageDraw, ImageFont, ImageOps

from cases.domain.records import PAGE_IMAGE_QUALITY, PAGE_IMAGE_SIDE
from cases.records.checks.common import (
    _IMAGE_ERRORS,
    JPEG_QUALITY,
    MAX_PDF_PAGES,
    MAX_PIXELS,
    THUMBNAIL_QUALITY,
    THUMBNAIL_SIDE,
    CheckedRecord,
    RecordRejected,
)
from cases.records.checks.messages import (
    DAMAGED_PHOTO,
    EMPTY,
    NOT_A_PHOTO,
    TOO_LARGE,
    TOO_MANY_PHOTOS,
    UNREADABLE_IMAGE,
    _too_many_pages_reason,
)
from cases.records.checks.sniff import ALLOWED, _not_accepted, sniff_type

# HEIC (iPhone photos) opens through Pillow once this plug-in is registered.
pillow_heif.register_heif_opener()

logger = logging.getLogger(__name__)


PDF_PAGE_LONG_SIDE = 842  # points: A4's long side, so combined photos print sensibly
PDF_IMAGE_LONG_SIDE = 3508  # pixels: A4 at 300 dpi, plenty to read a letter
_PIL_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
    "image/webp": "WEBP",
    "image/tiff": "TIFF",
}


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


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
        page_image = workdir / "page.jpg"
        _save_page_image(clean, page_image)
    return CheckedRecord(
        kind="image",
        sniffed_type=sniffed,
        derivative=derivative,
        derivative_type=derivative_type,
        thumbnail=thumbnail,
        metadata={"width": width, "height": height},
        page_image=page_image,
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
        pages = int(getattr(img, "n_frames", 1))
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


def _save_clean(img: Image.Image, output: Path | io.BytesIO, **params: Any) -> None:
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
        # One band (mode "F"), so the extrema are a (low, high) pair of floats.
        low, high = cast(tuple[float, float], wide.getextrema())
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


def _save_page_image(img: Image.Image, output: Path) -> None:
    """The JPEG a case file prints: at most PAGE_IMAGE_SIDE on either side."""
    page = _eight_bit(img)
    width, height = page.size
    scale = PAGE_IMAGE_SIDE / max(width, height)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        page = page.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    page = _flatten(page)
    if page.mode not in {"RGB", "L"}:
        page = page.convert("RGB")
    _save_clean(page, output, format="JPEG", quality=PAGE_IMAGE_QUALITY, optimize=True)


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
