"""The pages of an uploaded file as images: a PDF rendered by poppler at RENDER_DPI, an image
file (JPEG, PNG, a TIFF with one or more pages) as it is, turned upright by its EXIF
orientation."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, ImageSequence
from pypdf import PdfReader

from app.renditions.pdf import render_page_images

# Scans are read at 200 dpi: the recogniser works on at most 2,000 pixels a side anyway (an A4
# page at 200 dpi is 1,654 x 2,339), and bench/ocr.py finds no gain at 300 dpi.
RENDER_DPI = 200
A4_INCHES = (8.27, 11.69)
MAX_PAGE_PIXELS = 40_000_000  # about an A1 sheet at 200 dpi; larger pages are rendered coarser


@dataclass
class PageImage:
    image: Image.Image  # mode "1", "L" or "RGB"
    dpi: float  # for the page size of the PDF copy


def _plain(img: Image.Image) -> Image.Image:
    img = ImageOps.exif_transpose(img)
    if img.mode in ("1", "L", "RGB"):
        return img
    if img.mode in ("LA", "RGBA", "P", "PA"):  # transparency over a white sheet
        rgba = img.convert("RGBA")
        sheet = Image.new("RGB", rgba.size, "white")
        sheet.paste(rgba, mask=rgba.getchannel("A"))
        return sheet
    if img.mode.startswith(("I", "F")):  # 16-bit or float grey: scale to 8 bits, do not clip
        pixels = np.asarray(img, dtype=np.float64)
        top = pixels.max() or 1.0
        return Image.fromarray((pixels * (255.0 / max(top, 255.0))).astype(np.uint8))
    return img.convert("RGB")


def _dpi(img: Image.Image) -> float:
    """The image's own resolution when it states a plausible one, else what fits it on A4."""
    dpi = img.info.get("dpi")
    try:
        x, y = (float(v) for v in dpi)
        if 50 <= x <= 2400 and abs(x - y) < 1:
            return x
    except (TypeError, ValueError):
        pass
    return max(img.width / A4_INCHES[0], img.height / A4_INCHES[1], 1.0)


def _grey_if_no_colour(img: Image.Image) -> Image.Image:
    """A rendered page in grey unless some of it is in colour (a red seal keeps its colour)."""
    small = np.asarray(img.convert("RGB").reduce(4), dtype=np.int16)
    colourful = (small.max(axis=2) - small.min(axis=2) > 40).mean()
    return img.convert("RGB") if colourful > 0.0005 else img.convert("L")


def _page_sizes(data: bytes) -> list[tuple[float, float]]:
    reader = PdfReader(io.BytesIO(data), strict=False)
    return [(abs(float(p.mediabox.width)), abs(float(p.mediabox.height))) for p in reader.pages]


def _render_dpi(width_pt: float, height_pt: float) -> int:
    """RENDER_DPI, or less for a page so large that it would exceed MAX_PAGE_PIXELS (an upload
    inspection limits images, not the page size a PDF declares)."""
    square_inches = max(width_pt * height_pt / 72.0**2, 1e-6)
    return max(10, min(RENDER_DPI, int((MAX_PAGE_PIXELS / square_inches) ** 0.5)))


def page_images(data: bytes, file_type: str) -> Iterator[PageImage]:
    """Each page of an uploaded PDF, JPEG, PNG or TIFF, in order (one at a time: a long scan
    is never all in memory)."""
    if file_type == "pdf":
        for number, (width_pt, height_pt) in enumerate(_page_sizes(data), start=1):
            dpi = _render_dpi(width_pt, height_pt)
            ppm = render_page_images(data, dpi, first_page=number, last_page=number, raw=True)[0]
            with Image.open(io.BytesIO(ppm)) as img:
                img.load()
                yield PageImage(_grey_if_no_colour(img), float(dpi))
        return
    with Image.open(io.BytesIO(data)) as img:
        # a TIFF's frames are pages; a phone's JPEG (MPO) may carry a preview as a second frame
        frames = ImageSequence.Iterator(img) if file_type == "tif" else [img]
        for frame in frames:
            page = _plain(frame.copy())
            yield PageImage(page, _dpi(frame))
