"""A file handed to a user: its bytes, media type and download name (the surfaces send it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Download:
    data: bytes
    media_type: str
    name: str
