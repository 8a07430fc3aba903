"""`casefile case ...` and `casefile import` commands (registered by app/cli.py)."""

from __future__ import annotations


def register(sub, common, acting) -> None:
    """Add the case-file commands to the top-level subparsers."""
