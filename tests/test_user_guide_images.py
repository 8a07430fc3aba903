"""docs/user-guide.md shows the screenshots tools/user_guide_shots.py takes from the browser
suite: every image it references is in docs/images/, and every screenshot the tool makes is shown."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from user_guide_shots import GUIDE_SHOTS  # noqa: E402


def test_user_guide_images_exist_and_each_screenshot_is_shown():
    guide = (ROOT / "docs" / "user-guide.md").read_text()
    shown = re.findall(r"!\[[^\]]+\]\(images/([^)]+)\.png\)", guide)
    assert [n for n in shown if not (ROOT / "docs" / "images" / f"{n}.png").is_file()] == []
    assert set(GUIDE_SHOTS) == set(shown)
