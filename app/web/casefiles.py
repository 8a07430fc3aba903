"""Case files (案卷): pages for clerks, archivists and inspectors."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("casefiles", __name__)
