"""Small real files made on the fly for record tests."""

from __future__ import annotations

import io

import pikepdf
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def pdf_bytes(pages: int = 1, marker: str = "") -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    if marker:
        pdf.docinfo["/Title"] = marker
    out = io.BytesIO()
    # Same arguments, same bytes: tests that upload "the same file" twice rely on it, and
    # pikepdf would otherwise write a random /ID into each copy.
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def jpeg_bytes(size: tuple[int, int] = (64, 48), colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)
