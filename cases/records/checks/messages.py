"""What the uploader reads when a file is refused: plain English they can act on."""

from __future__ import annotations

from cases.records.checks.common import MAX_PDF_PAGES, MAX_PIXELS

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


def _too_many_pages_reason(pages: int, what: str = "PDF") -> str:
    return (
        f"This {what} has {pages} pages; we can accept up to {MAX_PDF_PAGES} pages in one file. "
        "Please split it into smaller files and upload them separately."
    )
