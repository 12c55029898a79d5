"""Markers on records' metadata that the worker acts on."""

from __future__ import annotations

# Marks a record whose original is a bundle of photos still to be combined into a PDF.
COMBINE_PHOTOS = "combine_photos"
