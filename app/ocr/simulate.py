"""Pages that look scanned, for the demo store, the tests and bench/ocr.py: typed lines (or a
rendered page) on paper, then a slight skew, blur, sensor noise and specks, as a flatbed
scanner or a phone leaves them."""

from __future__ import annotations

import io
import shutil
import subprocess
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_FAMILY = "Noto Serif CJK SC"  # fonts-noto-cjk (scripts/install-system-deps.sh)


@cache
def cjk_font_file() -> str:
    """The installed file of a Simplified Chinese font (fontconfig's choice)."""
    exe = shutil.which("fc-match")
    if exe:
        found = subprocess.run([exe, "-f", "%{file}", f"{FONT_FAMILY}:lang=zh-cn"],
                               capture_output=True, text=True, timeout=30).stdout.strip()  # fmt: skip
        if found:
            return found
    raise RuntimeError("no Chinese font found (Debian: fonts-noto-cjk)")


def typed_page(lines: list[str], *, width: int = 1240, height: int = 1754, size: int = 34,
               margin: int = 120, leading: float = 1.9) -> Image.Image:  # fmt: skip
    """A clean page (grey, 150 dpi A4 by default) with these lines typed on it."""
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(cjk_font_file(), size)
    y = margin
    for line in lines:
        draw.text((margin, y), line, font=font, fill=20)
        y += int(size * leading)
    return page


def scanned(page: Image.Image, seed: int = 7, *, skew: float = 1.0, noise: float = 14.0,
            blur: float = 0.6) -> Image.Image:  # fmt: skip
    """The page as a scanner returns it: turned by up to `skew` degrees, blurred, with grey
    noise and black and white specks (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    img = page.convert("L").rotate(float(rng.uniform(-skew, skew)), resample=Image.BICUBIC,
                                   expand=True, fillcolor=250)  # fmt: skip
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    pixels = np.asarray(img, dtype=np.float32) + rng.normal(0, noise, (img.height, img.width))
    specks = rng.random(pixels.shape)
    pixels[specks < 0.0015] = 0
    pixels[specks > 0.9985] = 255
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def encoded(img: Image.Image, fmt: str = "JPEG", dpi: float = 150) -> bytes:
    """The image as a file a scanner writes (JPEG at quality 80, PNG, TIFF)."""
    buf = io.BytesIO()
    options = {"quality": 80} if fmt == "JPEG" else {}
    img.save(buf, format=fmt, dpi=(dpi, dpi), **options)
    return buf.getvalue()
