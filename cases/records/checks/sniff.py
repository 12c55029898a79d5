"""What a file really is, from its content alone (never its name)."""

from __future__ import annotations

from pathlib import Path

import magic

from cases.records.checks.messages import _FRIENDLY, ACCEPTED_TYPES_TEXT

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
