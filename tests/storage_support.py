"""An S3-compatible server for the storage tests: moto's standalone server, on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from medchina.storage_config import s3_storage

KEYS = {"access_key": "testing", "secret_key": "testing", "region": "us-east-1"}


@dataclass
class S3Server:
    endpoint: str

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=KEYS["access_key"],
            aws_secret_access_key=KEYS["secret_key"],
            region_name=KEYS["region"],
        )

    def new_bucket(self) -> str:
        """A fresh, empty bucket, so tests never see each other's objects."""
        name = f"medchina-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def backend(self, bucket: str) -> dict[str, Any]:
        """The same backend settings.py builds for MEDCHINA_PRIVATE_STORAGE=s3."""
        return s3_storage(
            bucket=bucket, endpoint_url=self.endpoint, addressing_style="path", **KEYS
        )

    def environment(self, bucket: str) -> dict[str, str]:
        """What a process (the worker) needs in its environment to use that bucket."""
        return {
            "MEDCHINA_PRIVATE_STORAGE": "s3",
            "MEDCHINA_S3_BUCKET": bucket,
            "MEDCHINA_S3_ENDPOINT_URL": self.endpoint,
            "MEDCHINA_S3_REGION": KEYS["region"],
            "MEDCHINA_S3_ACCESS_KEY_ID": KEYS["access_key"],
            "MEDCHINA_S3_SECRET_ACCESS_KEY": KEYS["secret_key"],
            "MEDCHINA_S3_ADDRESSING_STYLE": "path",
        }

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))


def s3_server() -> Iterator[S3Server]:
    """Start moto's server on a free loopback port for as long as the caller needs it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(endpoint=f"http://{host}:{port}")
    finally:
        server.stop()


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
