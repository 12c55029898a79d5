"""The partner copy: page pictures with opaque boxes burned in, as an image-only PDF.

The PDF is written object by object with pikepdf, so it holds exactly what we put in:
one JPEG per page and a content stream that draws it. No text layer, annotations, form
fields, document information, XMP, outlines or attachments; the JPEGs carry no EXIF.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import pikepdf
from PIL import Image, ImageDraw

Box = tuple[int, int, int, int]  # left, top, right, bottom in page pixels

BOX_PADDING = 3  # pixels added round each box: anti-aliased edges of letters go too
JPEG_QUALITY = 80


def burn_boxes(image: Image.Image, boxes: Iterable[Sequence[int]]) -> Image.Image:
    """A copy of ``image`` with each box painted solid black (the pixels are gone)."""
    burned = image.convert("RGB")  # always a copy
    draw = ImageDraw.Draw(burned)
    width, height = burned.size
    for left, top, right, bottom in boxes:
        draw.rectangle(
            (
                max(0, left - BOX_PADDING),
                max(0, top - BOX_PADDING),
                min(width - 1, right + BOX_PADDING),
                min(height - 1, bottom + BOX_PADDING),
            ),
            fill="black",
        )
    return burned


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # A fresh RGB copy has no EXIF, ICC or comments to carry across.
    clean = Image.frombytes("RGB", image.size, image.convert("RGB").tobytes())
    clean.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def write_image_pdf(pages: Iterable[tuple[Image.Image, int]], output: Path) -> int:
    """Write (picture, dpi) pairs as a PDF of pictures only; returns the page count."""
    pdf = pikepdf.new()
    count = 0
    for image, dpi in pages:
        data = _jpeg(image)
        width_px, height_px = image.size
        width, height = width_px * 72 / dpi, height_px * 72 / dpi
        picture = pikepdf.Stream(pdf, data)
        picture.Type = pikepdf.Name.XObject
        picture.Subtype = pikepdf.Name.Image
        picture.Width, picture.Height = width_px, height_px
        picture.ColorSpace = pikepdf.Name.DeviceRGB
        picture.BitsPerComponent = 8
        picture.Filter = pikepdf.Name.DCTDecode
        content = pikepdf.Stream(pdf, f"q {width:.2f} 0 0 {height:.2f} 0 0 cm /P Do Q".encode())
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, round(width, 2), round(height, 2)],
            Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(P=picture)),
            Contents=content,
        )
        pdf.pages.append(pikepdf.Page(page))
        count += 1
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    pdf.save(output, deterministic_id=True, compress_streams=True)
    return count
