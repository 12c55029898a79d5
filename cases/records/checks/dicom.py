"""DICOM scans: kept byte for byte (preamble zeroed), with a browser preview."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_rescale, apply_voi_lut, get_decoder, pixel_array
from pydicom.uid import MediaStorageDirectoryStorage

from cases.records.checks.common import (
    _IMAGE_ERRORS,
    JPEG_QUALITY,
    MAX_PIXELS,
    THUMBNAIL_SIDE,
    CheckedRecord,
    RecordRejected,
)
from cases.records.checks.images import (
    _placeholder,
    _reading,
    _save_clean,
    _save_page_image,
    _save_thumbnail,
)
from cases.records.checks.messages import DICOM_DAMAGED, DICOMDIR

logger = logging.getLogger(__name__)


PREVIEW_SIDE = 2048  # DICOM preview for a browser; the doctors read the DICOM itself
_DICOM_ERRORS: tuple[type[BaseException], ...] = (
    *_IMAGE_ERRORS,
    InvalidDicomError,
    BytesLengthException,
    AttributeError,
    RuntimeError,
)
# Drawing a preview may also fail on I/O inside a decoder; the scan itself is still fine.
_PREVIEW_ERRORS: tuple[type[BaseException], ...] = (*_DICOM_ERRORS, OSError)


_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


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

    page_image = workdir / "page.jpg"
    if image is None:
        _placeholder("DICOM", preview, (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        _placeholder("DICOM", thumbnail, (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        _placeholder("DICOM", page_image, (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    else:
        _save_clean(image, preview, format="JPEG", quality=JPEG_QUALITY)
        _save_thumbnail(image, thumbnail)
        _save_page_image(image, page_image)
    return CheckedRecord(
        kind="dicom",
        sniffed_type="application/dicom",
        derivative=derivative,
        derivative_type="application/dicom",
        thumbnail=thumbnail,
        metadata=metadata,
        preview=preview,
        page_image=page_image,
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
    except _PREVIEW_ERRORS:
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
