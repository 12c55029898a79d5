"""Streaming upload handling: straight to a temporary file, hashed as it arrives."""

from __future__ import annotations

import hashlib
import os

from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Writes each file to disk chunk by chunk and computes its SHA-256 on the way.

    A file over the size limit is skipped as soon as it passes the limit — the rest of
    the request still arrives — and its name is kept so the page can say why.
    """

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.too_large: list[str] = []

    def new_file(self, *args, **kwargs) -> None:
        os.makedirs(settings.FILE_UPLOAD_TEMP_DIR, mode=0o700, exist_ok=True)
        super().new_file(*args, **kwargs)
        self._digest = hashlib.sha256()
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._received += len(raw_data)
        if self._received > settings.MEDCHINA_MAX_RECORD_SIZE:
            self.too_large.append(self.file_name or "a file")
            self.file.close()  # a NamedTemporaryFile: closing deletes it
            raise SkipFile
        self._digest.update(raw_data)
        super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int):
        uploaded = super().file_complete(file_size)
        if uploaded is not None:
            # Read by cases.records.services._sha256, which then skips hashing again.
            uploaded.sha256 = self._digest.hexdigest()  # type: ignore[attr-defined]
        return uploaded


def too_large_names(request) -> list[str]:
    for handler in getattr(request, "_upload_handlers", []) or []:
        if isinstance(handler, HashingUploadHandler):
            return handler.too_large
    return []
