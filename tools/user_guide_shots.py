"""Regenerate the screenshots in docs/images/ that docs/user-guide.md shows, from the browser
suite's journeys (tests/browser), so the guide shows the pages as they are.

    .venv/bin/python tools/user_guide_shots.py          # run the journeys, refresh the images

The journeys write every screenshot into a temporary folder (CASEFILE_SHOTS); the handful the
guide uses are copied here, cut to at most MAX_HEIGHT pixels and reduced to 256 colours so the
repository stays small. Needs what `make test` installs (Chromium, Playwright, LibreOffice).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
MAX_HEIGHT = 1400
# screenshot name (see the shot(...) calls in tests/browser) -> the journey that takes it
GUIDE_SHOTS = {
    "review-form-error": "test_review_journey.py::test_opinion_is_drafted_returned_reviewed_issued_and_opened_as_pdf",
    "review-returned": "test_review_journey.py::test_opinion_is_drafted_returned_reviewed_issued_and_opened_as_pdf",
    "review-confirm": "test_review_journey.py::test_opinion_is_drafted_returned_reviewed_issued_and_opened_as_pdf",
    "review-issued": "test_review_journey.py::test_opinion_is_drafted_returned_reviewed_issued_and_opened_as_pdf",
    "search-facet": "test_search_journey.py::test_inspector_searches_by_bracket_variant_and_traditional_script",
    "casefile-picker": "test_casefile_journey.py::test_clerk_builds_closes_and_downloads_a_case_file",
    "casefile-closed": "test_casefile_journey.py::test_clerk_builds_closes_and_downloads_a_case_file",
    "casefile-scan-recognised": "test_scan_journey.py::test_clerk_uploads_a_scan_and_finds_it_by_a_phrase",
    "template-refused": "test_template_journey.py::test_admin_fixes_a_refused_template_and_a_clerk_uses_it",
}  # fmt: skip


def run_journeys(shots: Path) -> None:
    tests = sorted({f"tests/browser/{t}" for t in GUIDE_SHOTS.values()})
    env = dict(os.environ, CASEFILE_SHOTS=str(shots))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *tests]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def small_png(source: Path, target: Path) -> None:
    with Image.open(source) as img:
        img = img.convert("RGB")
        if img.height > MAX_HEIGHT:
            img = img.crop((0, 0, img.width, MAX_HEIGHT))
        img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        shots = Path(tmp)
        run_journeys(shots)
        for name in GUIDE_SHOTS:
            small_png(shots / f"{name}.png", IMAGES / f"{name}.png")
            print(f"docs/images/{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
