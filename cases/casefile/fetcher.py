"""The only way WeasyPrint may load anything while rendering a case file."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse


class SafeFetcher(URLFetcher):
    """Allows ``mcstatic:`` (our static files) and ``mcrecord:`` (this case's images) only."""

    def __init__(self, images: dict[str, bytes]) -> None:
        super().__init__(allowed_protocols=(), allow_redirects=False)
        self.images = images
        self.refused: list[str] = []

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if url.startswith("mcrecord:"):
            key = url.removeprefix("mcrecord:")
            if key in self.images:
                return URLFetcherResponse(url, self.images[key], {"Content-Type": "image/jpeg"})
        elif url.startswith("mcstatic:"):
            name = url.removeprefix("mcstatic:")
            found = finders.find(name) if ".." not in name else None
            if found:
                mime = mimetypes.guess_type(found)[0] or "application/octet-stream"
                return URLFetcherResponse(url, Path(found).read_bytes(), {"Content-Type": mime})
        self.refused.append(url[:200])
        raise ValueError(f"refused to fetch {url[:80]!r}")

    def __call__(self, url: str) -> URLFetcherResponse:
        return self.fetch(url)
