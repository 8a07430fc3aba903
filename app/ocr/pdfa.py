"""The searchable copy of a scan: a PDF/A-2b file whose pages are the page images with the
recognised text laid invisibly over them (text render mode 3), where each line was read, so a
viewer finds, selects and copies the words on the picture.

Written here byte by byte rather than through a PDF library, because the file is small and
fixed in shape, and so that the same pages and text always give the same bytes (a write-once
blob). PDF/A-2b needs: the XMP identification (pdfaid), an output intent with an ICC profile
(sRGB, made by Pillow's littleCMS), a file identifier, no encryption, transparency or
JavaScript, and an embedded program for every font. The text is never drawn (mode 3); its font
is a CID font whose every character maps to one empty glyph one em wide (a "glyphless" TrueType
program of a few hundred bytes, built below), with a ToUnicode map, so every character extracts
as itself.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from PIL import Image, ImageCms

from app.ocr.engine import PageText

JPEG_QUALITY = 80
FONT = "GlyphLessFont"


class _Writer:
    def __init__(self) -> None:
        self.objects: list[bytes | None] = []

    def reserve(self) -> int:
        self.objects.append(None)
        return len(self.objects)

    def put(self, number: int, body: bytes) -> int:
        self.objects[number - 1] = body
        return number

    def add(self, body: bytes) -> int:
        return self.put(self.reserve(), body)

    def stream(self, entries: bytes, data: bytes, number: int | None = None) -> int:
        body = b"<< " + entries + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"
        return self.put(number or self.reserve(), body)

    def output(self, root: int) -> bytes:
        out = io.BytesIO()
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self.objects, start=1):
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
        file_id = hashlib.md5(out.getvalue(), usedforsecurity=False).hexdigest().encode()
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
        for offset in offsets:
            out.write(b"%010d 00000 n \n" % offset)
        out.write(
            b"trailer\n<< /Size %d /Root %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(offsets) + 1, root, file_id, file_id, xref)
        )
        return out.getvalue()


def _checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


def _glyphless_font() -> bytes:
    """A TrueType program with two empty glyphs (.notdef and the one every character uses),
    each 1000 units (one em) wide, as the CID font's /DW says."""
    em = 1000
    tables = {
        b"cmap": struct.pack(">HHHHI", 0, 1, 3, 1, 12)
        + struct.pack(">HHHHHHHHHHHH", 4, 24, 0, 2, 2, 0, 0, 0xFFFF, 0, 0xFFFF, 1, 0),
        b"glyf": b"",
        b"head": struct.pack(">IIIIHHqqhhhhHHhhh", 0x10000, 0x10000, 0, 0x5F0F3CF5, 0x3, em,
                             0, 0, 0, 0, em, em, 0, 8, 2, 0, 0),
        b"hhea": struct.pack(">Ihhh H hhh hhh hhhh hH", 0x10000, em, 0, 0, em, 0, 0, 0, 1, 0, 0,
                             0, 0, 0, 0, 0, 2),
        b"hmtx": struct.pack(">HhHh", em, 0, em, 0),
        b"loca": struct.pack(">HHH", 0, 0, 0),
        b"maxp": struct.pack(">IHHHHHHHHHHHHHH", 0x10000, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0),
        b"name": struct.pack(">HHH", 0, 0, 6),
        b"post": struct.pack(">IIhhIIIII", 0x30000, 0, 0, 0, 0, 0, 0, 0, 0),
    }  # fmt: skip
    count = len(tables)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(">IHHHH", 0x10000, count, power * 16, power.bit_length() - 1,
                         (count - power) * 16)  # fmt: skip
    offset = len(header) + 16 * count
    records, body = b"", b""
    for tag, data in sorted(tables.items()):
        records += struct.pack(">4sIII", tag, _checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    font = bytearray(header + records + body)
    adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    head_at = offset + body.index(tables[b"head"])
    font[head_at + 8 : head_at + 12] = struct.pack(">I", adjustment)
    return bytes(font)


def _num(value: float) -> bytes:
    return (b"%.3f" % value).rstrip(b"0").rstrip(b".") or b"0"


@dataclass(frozen=True)
class PageScan:
    """A page image as it goes into the PDF: encoded at once, so a long scan is held as
    JPEG bytes, not as pixels."""

    width: int
    height: int
    dpi: float
    entries: bytes  # the image dictionary's colour space, depth and filter
    data: bytes


def encode_page(image: Image.Image, dpi: float, original_jpeg: bytes | None = None) -> PageScan:
    """A bilevel page as Flate (lossless, small), any other as JPEG: the uploaded JPEG itself
    when given (no second lossy compression), else re-encoded at JPEG_QUALITY."""
    if image.mode == "1":
        entries = b"/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode"
        return PageScan(image.width, image.height, dpi, entries, zlib.compress(image.tobytes(), 6))
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    space = b"/DeviceGray" if image.mode == "L" else b"/DeviceRGB"
    if original_jpeg is None:
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        original_jpeg = buf.getvalue()
    entries = b"/ColorSpace " + space + b" /BitsPerComponent 8 /Filter /DCTDecode"
    return PageScan(image.width, image.height, dpi, entries, original_jpeg)


def _text_ops(page: PageText, scale: float, height_pt: float, cids: dict[str, int]) -> bytes:
    """Each line as invisible text on the line's baseline, as wide and as tilted as the line."""
    ops = [b"BT 3 Tr"]
    for line in page.lines:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = line.box[:4]
        width = math.hypot(x2 - x3, y2 - y3) * scale
        size = math.hypot(x3 - x0, y3 - y0) * scale
        if width <= 0 or size <= 0:
            continue
        angle = math.atan2(-(y2 - y3), x2 - x3)  # pixel rows grow downwards, PDF y upwards
        cos, sin = math.cos(angle), math.sin(angle)
        size_pt = size * 0.85  # the box has some margin around the characters
        stretch = 100 * width / (len(line.text) * size_pt)
        # baseline a little above the box's bottom edge
        bx, by = x3 * scale - sin * size * 0.1, height_pt - y3 * scale + cos * size * 0.1
        code = "".join(f"{cids[ch]:04X}" for ch in line.text).encode()
        ops.append(
            b"/F1 %s Tf %s Tz %s %s %s %s %s %s Tm <%s> Tj"
            % (_num(size_pt), _num(stretch), _num(cos), _num(sin), _num(-sin), _num(cos),
               _num(bx), _num(by), code)
        )  # fmt: skip
    ops.append(b"ET")
    return b"\n".join(ops)


def _to_unicode(cids: dict[str, int]) -> bytes:
    lines = [
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    pairs = sorted(cids.items(), key=lambda kv: kv[1])
    for start in range(0, len(pairs), 100):
        chunk = pairs[start : start + 100]
        lines.append(b"%d beginbfchar" % len(chunk))
        for ch, cid in chunk:
            lines.append(b"<%04X> <%s>" % (cid, ch.encode("utf-16-be").hex().upper().encode()))
        lines.append(b"endbfchar")
    lines += [b"endcmap CMapName currentdict /CMap defineresource pop end end"]
    return b"\n".join(lines)


def _xmp(title: str, producer: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">\n'
        "<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>\n"
        "<dc:format>application/pdf</dc:format>\n"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt>'
        "</dc:title>\n"
        f"<pdf:Producer>{escape(producer)}</pdf:Producer>\n"
        "</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def searchable_pdf(
    pages: Iterable[tuple[PageScan, PageText]], *, title: str = "", producer: str = "casefile"
) -> bytes:
    """A PDF/A-2b file of the pages, in order: each page's image (encode_page) with its
    recognised text laid over it."""
    pages = list(pages)
    w = _Writer()
    catalog, page_tree = w.reserve(), w.reserve()
    chars = sorted({ch for _, text in pages for line in text.lines for ch in line.text})
    cids = {ch: i for i, ch in enumerate(chars, start=1)}
    program = _glyphless_font()
    font_file = w.stream(b"/Length1 %d /Filter /FlateDecode" % len(program), zlib.compress(program))
    descriptor = w.add(b"<< /Type /FontDescriptor /FontName /%s /Flags 4 "
                       b"/FontBBox [0 0 1000 1000] /ItalicAngle 0 /Ascent 1000 /Descent 0 "
                       b"/CapHeight 1000 /StemV 80 /FontFile2 %d 0 R >>"
                       % (FONT.encode(), font_file))  # fmt: skip
    # every CID draws glyph 1
    to_gid = w.stream(b"/Filter /FlateDecode", zlib.compress(b"\0\1" * (len(cids) + 1)))
    cid_font = w.add(b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s "
                     b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                     b"/FontDescriptor %d 0 R /DW 1000 /CIDToGIDMap %d 0 R >>"
                     % (FONT.encode(), descriptor, to_gid))  # fmt: skip
    to_unicode = w.stream(b"/Filter /FlateDecode", zlib.compress(_to_unicode(cids)))
    font = w.add(b"<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H "
                 b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>"
                 % (FONT.encode(), cid_font, to_unicode))  # fmt: skip
    kids = []
    for scan, text in pages:
        scale = 72.0 / scan.dpi
        width_pt, height_pt = scan.width * scale, scan.height * scale
        xobject = w.stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d "
                           % (scan.width, scan.height) + scan.entries, scan.data)  # fmt: skip
        content = (b"q %s 0 0 %s 0 0 cm /Im0 Do Q\n" % (_num(width_pt), _num(height_pt))
                   + _text_ops(text, scale, height_pt, cids))  # fmt: skip
        contents = w.stream(b"/Filter /FlateDecode", zlib.compress(content, 6))
        kids.append(w.add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Contents %d 0 R "
            b"/Resources << /XObject << /Im0 %d 0 R >> /Font << /F1 %d 0 R >> >> >>"
            % (page_tree, _num(width_pt), _num(height_pt), contents, xobject, font)
        ))  # fmt: skip
    w.put(page_tree, b"<< /Type /Pages /Kids [%s] /Count %d >>"
          % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)))  # fmt: skip
    metadata = w.stream(b"/Type /Metadata /Subtype /XML", _xmp(title, producer))
    icc = w.stream(b"/N 3 /Filter /FlateDecode", zlib.compress(_srgb_profile()))
    intent = w.add(b"<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB) "
                   b"/Info (sRGB IEC61966-2.1) /DestOutputProfile %d 0 R >>" % icc)  # fmt: skip
    w.put(catalog, b"<< /Type /Catalog /Pages %d 0 R /Metadata %d 0 R /OutputIntents [%d 0 R] "
          b"/Lang (zh-CN) >>" % (page_tree, metadata, intent))  # fmt: skip
    return w.output(catalog)
