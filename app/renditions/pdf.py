"""PDF helpers on pypdf (and poppler's pdftoppm for page images).

stamp_metadata() writes casefile's identification into a rendition as an *incremental update*:
the bytes LibreOffice produced stay untouched as a prefix of the result, the document
information dictionary gains the casefile keys, and the XMP packet is updated consistently
(dc:title = /Title, dc:description = /Subject, casefile:* properties declared in a PDF/A
extension schema) so the PDF/A-2b identification (pdfaid:part=2, conformance=B) and the
Info/XMP agreement that PDF/A requires are kept.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from xml.dom import minidom

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, IndirectObject

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC_NS = "http://purl.org/dc/elements/1.1/"
PDFAID_NS = "http://www.aiim.org/pdfa/ns/id/"
PDFAEXT_NS = "http://www.aiim.org/pdfa/ns/extension/"
PDFASCHEMA_NS = "http://www.aiim.org/pdfa/ns/schema#"
PDFAPROP_NS = "http://www.aiim.org/pdfa/ns/property#"
CASEFILE_NS = "urn:casefile:ns:pdf:1.0/"
XML_NS = "http://www.w3.org/XML/1998/namespace"

#: Info dictionary key -> XMP property (casefile namespace) and its description.
CASEFILE_KEYS = {
    "/CasefileNumber": ("Number", "document number (发文字号)"),
    "/CasefileDocxSha256": ("DocxSha256", "sha256 of the issued DOCX this PDF was rendered from"),
    "/CasefileTemplate": ("Template", "template id and version, id@version"),
    "/CasefileTemplateId": ("TemplateId", "template id"),
    "/CasefileTemplateVersion": ("TemplateVersion", "template version"),
}


class PdfError(ValueError):
    """The bytes are not a readable PDF."""


def _reader(pdf_bytes: bytes) -> PdfReader:
    if not pdf_bytes or not pdf_bytes.lstrip()[:5] == b"%PDF-":
        raise PdfError("not a PDF")
    try:
        return PdfReader(io.BytesIO(pdf_bytes))
    except Exception as exc:  # pypdf raises several types for broken files
        raise PdfError(f"unreadable PDF: {exc}") from exc


# --------------------------------------------------------------------------- metadata


def stamp_metadata(
    pdf_bytes: bytes,
    *,
    number: str,
    docx_sha256: str,
    template_id: str,
    template_version: str | int,
    title: str,
) -> bytes:
    """Return the PDF with casefile metadata added (incremental update; idempotent)."""
    if not re.fullmatch(r"[0-9a-f]{64}", docx_sha256 or ""):
        raise ValueError("docx_sha256 must be 64 lowercase hex digits")
    reader = _reader(pdf_bytes)
    writer = PdfWriter(reader, incremental=True)
    values = {
        "/CasefileNumber": number,
        "/CasefileDocxSha256": docx_sha256,
        "/CasefileTemplate": f"{template_id}@{template_version}",
        "/CasefileTemplateId": str(template_id),
        "/CasefileTemplateVersion": str(template_version),
    }
    writer.add_metadata({"/Title": title, "/Subject": number, **values})

    meta_ref = writer.root_object.get("/Metadata")
    if meta_ref is not None:
        stream = meta_ref.get_object()
        xmp = _update_xmp(stream.get_data(), title=title, subject=number, values=values)
        stream.set_data(xmp)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read_metadata(pdf_bytes: bytes) -> dict[str, object]:
    """Info dictionary (keys without the slash) plus a few XMP facts.

    Keys: 'Title', 'Subject', 'Producer', ..., 'CasefileNumber', 'CasefileDocxSha256',
    'CasefileTemplate', ..., and 'pdfa_part' / 'pdfa_conformance' (from XMP, or None),
    'xmp_title' (dc:title x-default, or None).
    """
    reader = _reader(pdf_bytes)
    out: dict[str, object] = {}
    info = reader.metadata or {}
    for k, v in info.items():
        out[k.lstrip("/")] = str(v)
    out.update(pdfa_part=None, pdfa_conformance=None, xmp_title=None)
    root = reader.trailer["/Root"]
    meta = root.get("/Metadata")
    if meta is not None:
        try:
            doc = minidom.parseString(meta.get_object().get_data())
        except Exception:
            return out
        for name, key in (("part", "pdfa_part"), ("conformance", "pdfa_conformance")):
            val = _xmp_value(doc, PDFAID_NS, name)
            out[key] = val
        titles = doc.getElementsByTagNameNS(DC_NS, "title")
        if titles:
            lis = titles[0].getElementsByTagNameNS(RDF_NS, "li")
            if lis:
                out["xmp_title"] = _text(lis[0])
        for _key, (prop, _desc) in CASEFILE_KEYS.items():
            val = _xmp_value(doc, CASEFILE_NS, prop)
            if val is not None:
                out[f"xmp_casefile_{prop}"] = val
    return out


def _text(el) -> str:
    return "".join(n.data for n in el.childNodes if n.nodeType == n.TEXT_NODE).strip()


def _xmp_value(doc, ns: str, name: str) -> str | None:
    els = doc.getElementsByTagNameNS(ns, name)
    if els:
        return _text(els[0])
    # property written as an attribute of rdf:Description (abbreviated RDF)
    for d in doc.getElementsByTagNameNS(RDF_NS, "Description"):
        if d.hasAttributeNS(ns, name):
            return d.getAttributeNS(ns, name).strip()
    return None


def _update_xmp(data: bytes, *, title: str, subject: str, values: dict[str, str]) -> bytes:
    doc = minidom.parseString(data)
    rdfs = doc.getElementsByTagNameNS(RDF_NS, "RDF")
    if not rdfs:
        raise PdfError("XMP packet has no rdf:RDF")
    rdf = rdfs[0]

    # Remove what we (re)write: dc:title, dc:description, casefile:*, our extension schema.
    for ns, name in ((DC_NS, "title"), (DC_NS, "description")):
        for el in list(doc.getElementsByTagNameNS(ns, name)):
            el.parentNode.removeChild(el)
    for d in list(rdf.getElementsByTagNameNS(RDF_NS, "Description")):
        if d.parentNode is not rdf:
            continue
        if d.getAttribute("xmlns:casefile") or d.getAttribute("xmlns:pdfaExtension"):
            rdf.removeChild(d)
        elif not [c for c in d.childNodes if c.nodeType == c.ELEMENT_NODE] and not [
            a for a in d.attributes.keys() if not a.startswith("xmlns") and a != "rdf:about"
        ]:
            rdf.removeChild(d)  # empty description left behind

    def el(qname: str, ns: str, text: str | None = None, **attrs: str):
        e = doc.createElementNS(ns, qname)
        for k, v in attrs.items():
            e.setAttribute(k.replace("__", ":"), v)
        if text is not None:
            e.appendChild(doc.createTextNode(text))
        return e

    def desc(**xmlns: str):
        d = el("rdf:Description", RDF_NS, **{"rdf__about": ""})
        for prefix, uri in xmlns.items():
            d.setAttribute(f"xmlns:{prefix}", uri)
        return d

    def lang_alt(qname: str, text: str):
        p = el(qname, DC_NS)
        alt = el("rdf:Alt", RDF_NS)
        alt.appendChild(el("rdf:li", RDF_NS, text, xml__lang="x-default"))
        p.appendChild(alt)
        return p

    d = desc(dc=DC_NS)
    d.appendChild(lang_alt("dc:title", title))
    d.appendChild(lang_alt("dc:description", subject))
    rdf.appendChild(d)

    d = desc(casefile=CASEFILE_NS)
    for key, (prop, _desc) in CASEFILE_KEYS.items():
        d.appendChild(el(f"casefile:{prop}", CASEFILE_NS, values[key]))
    rdf.appendChild(d)

    # PDF/A requires custom XMP properties to be declared in an extension schema.
    d = desc(pdfaExtension=PDFAEXT_NS, pdfaSchema=PDFASCHEMA_NS, pdfaProperty=PDFAPROP_NS)
    schemas = el("pdfaExtension:schemas", PDFAEXT_NS)
    bag = el("rdf:Bag", RDF_NS)
    li = el("rdf:li", RDF_NS, **{"rdf__parseType": "Resource"})
    li.appendChild(el("pdfaSchema:schema", PDFASCHEMA_NS, "casefile document identification"))
    li.appendChild(el("pdfaSchema:namespaceURI", PDFASCHEMA_NS, CASEFILE_NS))
    li.appendChild(el("pdfaSchema:prefix", PDFASCHEMA_NS, "casefile"))
    props = el("pdfaSchema:property", PDFASCHEMA_NS)
    seq = el("rdf:Seq", RDF_NS)
    for _key, (prop, description) in CASEFILE_KEYS.items():
        p = el("rdf:li", RDF_NS, **{"rdf__parseType": "Resource"})
        p.appendChild(el("pdfaProperty:name", PDFAPROP_NS, prop))
        p.appendChild(el("pdfaProperty:valueType", PDFAPROP_NS, "Text"))
        p.appendChild(el("pdfaProperty:category", PDFAPROP_NS, "external"))
        p.appendChild(el("pdfaProperty:description", PDFAPROP_NS, description))
        seq.appendChild(p)
    props.appendChild(seq)
    li.appendChild(props)
    bag.appendChild(li)
    schemas.appendChild(bag)
    d.appendChild(schemas)
    rdf.appendChild(d)

    # Serialise: keep the xpacket processing instructions, root element in between,
    # with padding so the packet can be edited in place by other tools.
    parts: list[str] = []
    for node in doc.childNodes:
        if (
            node.nodeType == node.PROCESSING_INSTRUCTION_NODE
            and node.target == "xpacket"
            and "end=" in node.data
        ):
            parts.append("\n" + (" " * 99 + "\n") * 20)
        parts.append(node.toxml())
    text = "".join(parts)
    if "<?xpacket" not in text:
        text = (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            + text
            + "\n"
            + (" " * 99 + "\n") * 20
            + '<?xpacket end="w"?>'
        )
    return text.encode("utf-8")


# --------------------------------------------------------------------------- content


def page_count(pdf_bytes: bytes) -> int:
    return len(_reader(pdf_bytes).pages)


def extract_text(pdf_bytes: bytes) -> str:
    """Text of all pages, pages separated by form feeds."""
    reader = _reader(pdf_bytes)
    return "\f".join(page.extract_text() or "" for page in reader.pages)


def embedded_fonts(pdf_bytes: bytes) -> list[tuple[str, bool]]:
    """Every font used by the pages (including inside form XObjects) as (BaseFont, embedded).

    A font counts as embedded when its FontDescriptor (for Type0: the descendant font's) has
    /FontFile, /FontFile2 or /FontFile3. Type3 fonts carry their glyphs and count as embedded.
    """
    reader = _reader(pdf_bytes)
    found: dict[str, bool] = {}
    seen: set[int] = set()

    def walk_resources(res) -> None:
        if res is None:
            return
        res = res.get_object()
        if isinstance(res, IndirectObject):
            res = res.get_object()
        fonts = res.get("/Font")
        if fonts is not None:
            for _name, ref in fonts.get_object().items():
                font = ref.get_object()
                name, emb = _font_info(font)
                found[name] = found.get(name, True) and emb
        xobjs = res.get("/XObject")
        if xobjs is not None:
            for _name, ref in xobjs.get_object().items():
                key = ref.idnum if isinstance(ref, IndirectObject) else id(ref)
                if key in seen:
                    continue
                seen.add(key)
                xo = ref.get_object()
                if xo.get("/Subtype") == "/Form":
                    walk_resources(xo.get("/Resources"))

    for page in reader.pages:
        walk_resources(page.get("/Resources"))
    return sorted(found.items())


def _font_info(font: DictionaryObject) -> tuple[str, bool]:
    name = str(font.get("/BaseFont", "(unnamed)")).lstrip("/")
    subtype = font.get("/Subtype")
    if subtype == "/Type3":
        return name, True
    desc_font = font
    if subtype == "/Type0":
        desc_font = font["/DescendantFonts"][0].get_object()
    fd = desc_font.get("/FontDescriptor")
    if fd is None:
        return name, False
    fd = fd.get_object()
    return name, any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3"))


# --------------------------------------------------------------------------- page images


def render_page_images(
    pdf_bytes: bytes,
    dpi: int = 96,
    *,
    first_page: int | None = None,
    last_page: int | None = None,
    timeout: float = 120.0,
    raw: bool = False,
) -> list[bytes]:
    """PNG bytes per page, rendered by poppler's pdftoppm (for the preview); with `raw`,
    uncompressed PPM instead (text recognition: writing PNG costs 30 times the rendering)."""
    _reader(pdf_bytes)  # fail early on garbage
    exe = shutil.which("pdftoppm")
    if not exe:
        raise RuntimeError("pdftoppm is not installed (Debian: poppler-utils)")
    if not 10 <= int(dpi) <= 600:
        raise ValueError("dpi must be between 10 and 600")
    with tempfile.TemporaryDirectory(prefix="casefile-ppm-") as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(pdf_bytes)
        cmd = [exe, "-r", str(int(dpi))] + ([] if raw else ["-png"])
        if first_page:
            cmd += ["-f", str(int(first_page))]
        if last_page:
            cmd += ["-l", str(int(last_page))]
        cmd += [str(src), str(Path(tmp) / "page")]
        r = subprocess.run(cmd, capture_output=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"pdftoppm failed: {r.stderr.decode('utf-8', 'replace')[-500:]}")
        suffix = "ppm" if raw else "png"
        pages = sorted(
            Path(tmp).glob(f"page-*.{suffix}"), key=lambda p: int(p.stem.rsplit("-", 1)[1])
        )
        return [p.read_bytes() for p in pages]
