"""The private storage backends, built from plain values (settings.py reads them from the
environment; the storage tests build the same S3 backend against a local server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def filesystem_storage(root: Path) -> dict[str, Any]:
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(root), "base_url": None},
    }


def s3_storage(
    *,
    bucket: str,
    prefix: str = "",
    endpoint_url: str | None = None,
    region: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    addressing_style: str | None = None,
    kms_key_id: str | None = None,
) -> dict[str, Any]:
    """django-storages' S3 backend: every object private and encrypted at rest.

    Files reach people only through the audited views, which stream them; any URL the
    backend could make is signed and short-lived, and none is ever handed out.
    """
    encryption: dict[str, str] = {"ServerSideEncryption": "AES256"}
    if kms_key_id:
        encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "location": prefix,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            # None: boto3 finds credentials itself (instance role, AWS_* variables).
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "addressing_style": addressing_style or None,
            "signature_version": "s3v4",
            "default_acl": "private",
            "object_parameters": encryption,
            # A name is never reused, so a retried task cannot overwrite a stored file.
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": 60,
        },
    }
