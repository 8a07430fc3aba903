"""One page image in, its lines of text (with where they stand) out: RapidOCR, loaded once per
process and shared by its threads under a lock (onnxruntime uses the cores itself)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import metadata

from PIL import Image

from app.search.normalize import tidy_ocr_line

try:
    ENGINE_NAME = f"RapidOCR {metadata.version('rapidocr-onnxruntime')}"
except metadata.PackageNotFoundError:  # the engine is a runtime dependency; verify reports it
    ENGINE_NAME = "RapidOCR"

# A line is kept when the recogniser is at least this sure of it (RapidOCR's own default).
MIN_SCORE = 0.5
# A page "yields text" when it has at least this many letters, digits or Han characters: a
# speck of dust read as "。" is not text.
MIN_WORD_CHARS = 2


class EngineUnavailable(RuntimeError):
    """The engine cannot be loaded here (package or a system library missing)."""


@dataclass(frozen=True)
class Line:
    """A recognised line: its text (tidied, app/search/normalize.py) and its four corners in
    pixels, clockwise from the top left."""

    text: str
    box: tuple[tuple[float, float], ...]
    score: float


@dataclass(frozen=True)
class PageText:
    width: int  # pixels
    height: int
    lines: tuple[Line, ...]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def has_text(self) -> bool:
        return sum(ch.isalnum() for ch in self.text) >= MIN_WORD_CHARS


_lock = threading.Lock()
_engine = None


def _load():
    global _engine
    if _engine is None:
        try:
            from rapidocr_onnxruntime import RapidOCR  # lazy: onnxruntime and OpenCV are heavy
        except ImportError as exc:  # e.g. OpenCV without libGL.so.1 (Debian: libgl1)
            raise EngineUnavailable(f"文字识别引擎无法加载：{exc}") from exc
        _engine = RapidOCR(print_verbose=False)
    return _engine


def read_page(image: Image.Image) -> PageText:
    """The lines of one page image, top to bottom, each tidied for search."""
    with _lock:
        result, _elapsed = _load()(
            image.convert("RGB") if image.mode not in ("L", "RGB") else image
        )
    lines = []
    for box, text, score in result or ():
        tidy = tidy_ocr_line(text)
        if tidy and float(score) >= MIN_SCORE:
            corners = tuple((float(x), float(y)) for x, y in box)
            lines.append(Line(text=tidy, box=corners, score=float(score)))
    return PageText(width=image.width, height=image.height, lines=tuple(lines))
