"""Private files: records, previews, thumbnails and case files, through one storage.

Everything goes through Django's storage API (``storages["private"]``): the local
filesystem on the embedded default, an S3-compatible object store in production
(``MEDCHINA_PRIVATE_STORAGE=s3``). Nothing in ``cases`` or ``intake`` knows a file's
path; code that needs a real file (PDF merging, image decoding, the checks) works on a
local copy in the scratch folder and removes it on every path out.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.db.models.fields.files import FieldFile
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty

PRIVATE = "private"

try:  # the S3 backend's failures are faults on our side, like a full disk
    from botocore.exceptions import BotoCoreError, ClientError

    STORAGE_ERRORS: tuple[type[BaseException], ...] = (OSError, BotoCoreError, ClientError)
except ImportError:  # pragma: no cover - botocore comes with django-storages[s3]
    STORAGE_ERRORS = (OSError,)


class _PrivateStorage(LazyObject):
    """``storages["private"]``, looked up when first used (and again after a settings
    change in tests), so the file fields never hold on to an old backend."""

    def _setup(self) -> None:
        self._wrapped = storages[PRIVATE]


private_storage: Any = _PrivateStorage()


def private_storage_for_fields() -> Storage:
    """The ``storage`` of every file field on our models."""
    storage: Storage = private_storage
    return storage


@receiver(setting_changed)
def _forget_backend(*, setting: str, **kwargs: Any) -> None:
    if setting == "STORAGES":
        private_storage._wrapped = empty


def scratch_dir() -> Path:
    """A local folder for work on copies of private files; never shared, never served."""
    folder = Path(settings.MEDCHINA_SCRATCH_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


@contextmanager
def local_copy(stored: FieldFile, *, suffix: str = "") -> Iterator[Path]:
    """A private file copied to a local temporary file for a library that needs a path.

    The copy is removed when the block ends, however it ends.
    """
    handle, name = tempfile.mkstemp(prefix="copy-", suffix=suffix, dir=scratch_dir())
    path = Path(name)
    try:
        with open(handle, "wb") as out, stored.open("rb") as source:
            shutil.copyfileobj(source, out, length=1024 * 1024)
        yield path
    finally:
        path.unlink(missing_ok=True)
