"""DOCX -> PDF/A-2b through LibreOffice, kept warm.

Long module: one warm LibreOffice per process, its restart, recycling and process-group handling, which only make sense together.

One long-lived LibreOffice (soffice) per process, driven over UNO by a small helper
(``_uno_worker.py``) that runs under the Python which has LibreOffice's ``uno`` module
(Debian: /usr/bin/python3 + python3-uno). The helper and soffice form their own process group;
we talk to the helper with JSON lines over its stdin/stdout, and soffice listens on a private
named pipe (no TCP port, so any number of instances can run side by side). A watchdog in that
group (started by the helper) kills it when the helper or this process is gone, kill -9 included.

- ``Converter.convert(docx) -> pdf`` loads the DOCX with the Word 2007+ import filter (no type
  sniffing, no macros, no linked-content updates) and stores it with ``writer_pdf_Export``
  and ``SelectPdfVersion=2`` (PDF/A-2b).
- If soffice died (crash, OOM killer, someone killed it) the converter restarts it and retries
  the conversion once. If a conversion hangs past ``convert_timeout`` the whole process group is
  killed, ``ConversionError`` is raised, and the next call starts a fresh soffice.
- ``cold_convert(docx)`` is the fallback/benchmark path: one ``soffice --convert-to`` per file.

Settings: ``OfficeSettings`` (CASEFILE_SOFFICE, CASEFILE_UNO_PYTHON, CASEFILE_FONT_ALIASES,
CASEFILE_RENDITION_TIMEOUT, read by app.config.Settings). The container passes them to
``configure_office()`` when it opens; this process's converter follows them.
"""

from __future__ import annotations

import atexit
import io
import json
import logging
import os
import queue
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import fonts

log = logging.getLogger(__name__)

#: PDF export filter data (see LibreOffice's pdfexport filter options).
PDFA_FILTER_DATA: dict[str, object] = {
    "SelectPdfVersion": 2,  # 2 = PDF/A-2b
    "UseTaggedPDF": True,
    "EmbedStandardFonts": True,
    "ExportBookmarks": True,
    "ExportNotes": False,
    "ReduceImageResolution": False,
    "UseLosslessCompression": True,  # seals and scans stay crisp
}

_WORKER = Path(__file__).with_name("_uno_worker.py")
_SOFFICE_CANDIDATES = [
    "/usr/bin/soffice",
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
]


class ConversionError(RuntimeError):
    """A document could not be converted to PDF (the message says why)."""


class ConverterUnavailable(ConversionError):
    """LibreOffice (or its Python UNO bridge) is not installed: retry after installing it."""


@dataclass(frozen=True)
class OfficeSettings:
    """How this process runs LibreOffice (Settings.soffice, .uno_python, .font_aliases,
    .rendition_timeout)."""

    soffice: str | None = None  # None: soffice on PATH, then the usual install folders
    uno_python: str | None = None  # None: a Python that can ``import uno``, searched for
    font_aliases: bool = True  # False: sites that installed the licensed fonts by name
    convert_timeout: float = 120.0


_office = OfficeSettings()


def configure_office(office: OfficeSettings) -> None:
    """Run this process's converter with *office* (a running one with other settings is
    stopped; the next conversion starts a new one)."""
    global _office, _singleton
    with _singleton_lock:
        if office == _office:
            return
        _office = office
        old, _singleton = _singleton, None
    if old is not None and _singleton_pid == os.getpid():
        old.stop()


# --------------------------------------------------------------------------- discovery


def find_soffice(configured: str | None = None) -> str | None:
    """*configured* if it is executable, else soffice found on PATH or in the usual places."""
    configured = configured or _office.soffice
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    for cand in _SOFFICE_CANDIDATES + sorted(
        map(str, Path("/opt").glob("libreoffice*/program/soffice"))
    ):
        if os.access(cand, os.X_OK):
            return cand
    return None


_uno_python_cache: dict[str, str | None] = {}


def find_uno_python(soffice: str | None = None, configured: str | None = None) -> str | None:
    """*configured*, else a Python interpreter that can ``import uno`` (cached)."""
    configured = configured or _office.uno_python
    if configured:
        return configured
    key = soffice or ""
    if key in _uno_python_cache:
        return _uno_python_cache[key]
    cands = []
    if soffice:
        prog = Path(os.path.realpath(soffice)).parent
        cands += [str(prog / "python"), str(prog / "python.bin")]  # TDF builds bundle one
    cands += ["/usr/bin/python3", "/usr/local/bin/python3"]
    result = None
    for c in cands:
        if not os.access(c, os.X_OK):
            continue
        try:
            r = subprocess.run([c, "-c", "import uno"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            result = c
            break
    if result:  # cache hits only: python3-uno may be installed while we run
        _uno_python_cache[key] = result
    return result


def is_available() -> bool:
    """True if LibreOffice and a UNO-capable Python are installed."""
    s = find_soffice()
    return bool(s and find_uno_python(s))


def check_docx(data: bytes) -> None:
    """Cheap structural check so garbage never reaches LibreOffice (which would happily
    'import' random bytes as plain text)."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise ConversionError("input is empty or not bytes")
    if not data.startswith(b"PK"):
        raise ConversionError("input is not a DOCX (not a ZIP container)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ConversionError(f"input is not a DOCX (bad ZIP: {exc})") from None
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise ConversionError("input is not a DOCX (no word/document.xml)")


def _office_env(work_dir: Path, font_aliases: bool) -> dict[str, str]:
    env = dict(os.environ)
    if font_aliases:
        # Our aliases on top of the system config (see fonts.py). CASEFILE_FONT_ALIASES=0
        # turns them off for sites that installed the licensed fonts under their real names.
        conf = work_dir / "fonts.conf"
        fonts.write_conf(str(conf), include_system=True)
        env["FONTCONFIG_FILE"] = str(conf)
    env["SAL_USE_VCLPLUGIN"] = "svp"  # headless VCL, never touch a display
    env.pop("DISPLAY", None)
    env["HOME"] = str(work_dir)  # soffice writes dotfiles into $HOME
    tmp = work_dir / "tmp"  # LibreOffice's lu*.tmp folders: removed with work_dir
    tmp.mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp)
    # The UNO helper must not pick up the venv's site-packages or PYTHONHOME.
    for k in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(k, None)
    return env


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        log.error("process group %s did not exit after SIGKILL", proc.pid)


# --------------------------------------------------------------------------- warm converter


class Converter:
    """One warm LibreOffice. Thread-safe: conversions are serialised by a lock."""

    def __init__(
        self,
        *,
        soffice: str | None = None,
        uno_python: str | None = None,
        convert_timeout: float | None = None,
        start_timeout: float = 90.0,
        filter_data: dict[str, object] | None = None,
        recycle_after: int = 500,
        font_aliases: bool | None = None,
    ) -> None:
        # what is not given comes from the process's OfficeSettings (see configure_office())
        self.soffice = soffice
        self.uno_python = uno_python
        self.convert_timeout = convert_timeout or _office.convert_timeout
        self.font_aliases = _office.font_aliases if font_aliases is None else font_aliases
        self.start_timeout = start_timeout
        self.filter_data = dict(filter_data or PDFA_FILTER_DATA)
        self.restarts = 0  # number of (re)starts after the first
        self.conversions = 0
        #: restart soffice after this many conversions (bounds memory growth; 0 = never)
        self.recycle_after = recycle_after
        self._since_start = 0
        self._lock = threading.RLock()
        self._proc: subprocess.Popen | None = None
        self._lines: queue.Queue[str | None] | None = None
        self._soffice_pid: int | None = None
        self._work_dir: Path | None = None
        self._started_once = False
        self._pipe: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def soffice_pid(self) -> int | None:
        """PID of the soffice launcher this converter drives (for monitoring and tests)."""
        return self._soffice_pid if self.running else None

    def office_processes(self) -> dict[int, str]:
        """{pid: command name} of the LibreOffice processes this converter runs (soffice,
        oosplash, soffice.bin), found by process group (Linux /proc). Not the UNO helper."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return {}
        out: dict[int, str] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            pid = int(stat.parent.name)
            comm = text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            if int(fields[2]) == proc.pid and pid != proc.pid and fields[0] != "Z":
                out[pid] = comm
        return out

    def start(self) -> None:
        """Start soffice if it is not running. Idempotent."""
        with self._lock:
            if self.running:
                return
            self._cleanup_proc()
            soffice = self.soffice or find_soffice()
            if not soffice or not os.access(soffice, os.X_OK):
                raise ConverterUnavailable(
                    "LibreOffice (soffice) is not installed; run scripts/install-system-deps.sh "
                    "or set CASEFILE_SOFFICE"
                )
            py = self.uno_python or find_uno_python(soffice)
            if not py:
                raise ConverterUnavailable(
                    "no Python with LibreOffice's 'uno' module was found (Debian: apt-get install "
                    "python3-uno) ; or set CASEFILE_UNO_PYTHON"
                )
            if self._work_dir is None:
                self._work_dir = Path(tempfile.mkdtemp(prefix="casefile-lo-"))
            profile = self._work_dir / "profile"
            profile.mkdir(exist_ok=True)
            pipe = f"casefile_{os.getpid()}_{secrets.token_hex(6)}"
            self._pipe = pipe
            stderr_log = open(self._work_dir / "soffice.log", "ab")
            try:
                proc = subprocess.Popen(
                    [
                        py,
                        str(_WORKER),
                        "--soffice",
                        soffice,
                        "--profile",
                        str(profile),
                        "--pipe",
                        pipe,
                        "--start-timeout",
                        str(self.start_timeout),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr_log,
                    env=_office_env(self._work_dir, self.font_aliases),
                    cwd=str(self._work_dir),
                    start_new_session=True,
                )
            except OSError as exc:
                raise ConverterUnavailable(f"cannot start the UNO helper with {py}: {exc}") from exc
            finally:
                stderr_log.close()
            lines: queue.Queue[str | None] = queue.Queue()
            threading.Thread(
                target=_pump, args=(proc.stdout, lines), daemon=True, name=f"casefile-lo-{proc.pid}"
            ).start()
            self._proc, self._lines = proc, lines
            msg = self._read(self.start_timeout + 15)
            if msg is None or not msg.get("ready"):
                detail = (msg or {}).get("error") or self._log_tail() or "no answer"
                self._cleanup_proc()
                raise ConversionError(f"LibreOffice did not start: {detail}")
            self._soffice_pid = int(msg["pid"])
            self._since_start = 0
            if self._started_once:
                self.restarts += 1
            self._started_once = True
            log.info("LibreOffice converter started (soffice pid %s)", self._soffice_pid)

    def stop(self) -> None:
        """Close soffice and remove the private profile."""
        with self._lock:
            self._close_gracefully()
            if self._work_dir is not None:
                shutil.rmtree(self._work_dir, ignore_errors=True)
                self._work_dir = None

    def _close_gracefully(self, wait: float = 15.0) -> None:
        """EOF to the helper (it terminates soffice), then kill whatever is left."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait(timeout=wait)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._cleanup_proc()

    def __enter__(self) -> Converter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- conversion ------------------------------------------------------------------------

    def convert(self, docx_bytes: bytes, *, timeout: float | None = None) -> bytes:
        """DOCX bytes -> PDF/A-2b bytes. Raises ConversionError (ConverterUnavailable if
        LibreOffice is not installed)."""
        check_docx(docx_bytes)
        with self._lock:
            if self.recycle_after and self._since_start >= self.recycle_after and self.running:
                log.info("recycling LibreOffice after %d conversions", self._since_start)
                self._close_gracefully()
            for attempt in (1, 2):
                self.start()
                try:
                    pdf = self._convert_once(docx_bytes, timeout or self.convert_timeout)
                except _OfficeDied as exc:
                    log.warning("LibreOffice died during conversion (%s); restarting", exc)
                    self._cleanup_proc()
                    if attempt == 2:
                        raise ConversionError(
                            f"LibreOffice died twice converting this document: {exc}"
                        ) from None
                    continue
                self.conversions += 1
                self._since_start += 1
                return pdf
        raise AssertionError("unreachable")

    def _convert_once(self, docx_bytes: bytes, timeout: float) -> bytes:
        assert self._work_dir is not None and self._proc is not None
        job = Path(tempfile.mkdtemp(prefix="job-", dir=self._work_dir))
        try:
            src, dst = job / "in.docx", job / "out.pdf"
            src.write_bytes(docx_bytes)
            req = {"in": str(src), "out": str(dst), "filter_data": self.filter_data}
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write((json.dumps(req) + "\n").encode())
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise _OfficeDied(f"helper not reachable: {exc}") from None
            try:
                msg = self._read(timeout)
            except TimeoutError:
                self._cleanup_proc()  # kill the hung soffice; next call starts a fresh one
                raise ConversionError(
                    f"LibreOffice did not finish within {timeout:.0f}s; it was killed and will "
                    "be restarted"
                ) from None
            if msg is None:
                raise _OfficeDied(self._log_tail() or "helper exited")
            if not msg.get("ok"):
                if msg.get("fatal"):
                    raise _OfficeDied(str(msg.get("error")))
                raise ConversionError(
                    f"LibreOffice could not convert the document: {msg.get('error')}"
                )
            try:
                pdf = dst.read_bytes()
            except FileNotFoundError:
                raise ConversionError("LibreOffice reported success but wrote no PDF") from None
            if not pdf.startswith(b"%PDF-"):
                raise ConversionError("LibreOffice output is not a PDF")
            return pdf
        finally:
            shutil.rmtree(job, ignore_errors=True)

    # -- internals -------------------------------------------------------------------------

    def _read(self, timeout: float) -> dict | None:
        """Next protocol message; None if the helper exited; TimeoutError on timeout."""
        assert self._lines is not None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError from None
            if line is None:
                return None
            try:
                return json.loads(line)
            except ValueError:
                log.debug("UNO helper: %s", line.rstrip())

    def _cleanup_proc(self) -> None:
        proc = self._proc
        self._proc, self._lines, self._soffice_pid = None, None, None
        if proc is None:
            return
        _kill_group(proc)
        for f in (proc.stdin, proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        if self._pipe:
            # a killed soffice leaves its UNO pipe's socket file behind (always in /tmp)
            for d in ("/tmp", "/var/tmp"):
                Path(d, f"OSL_PIPE_{os.getuid()}_{self._pipe}").unlink(missing_ok=True)
            self._pipe = None

    def _log_tail(self, n: int = 800) -> str:
        if self._work_dir is None:
            return ""
        try:
            data = (self._work_dir / "soffice.log").read_bytes()[-n:]
        except OSError:
            return ""
        return data.decode("utf-8", "replace").strip()


class _OfficeDied(Exception):
    pass


def _pump(stream, lines: queue.Queue) -> None:
    try:
        for raw in iter(stream.readline, b""):
            lines.put(raw.decode("utf-8", "replace"))
    except (OSError, ValueError):
        pass
    finally:
        lines.put(None)


# --------------------------------------------------------------------------- singleton

_singleton: Converter | None = None
_singleton_pid: int | None = None
_singleton_lock = threading.Lock()


def get_converter() -> Converter:
    """The process-wide warm converter (created on first use, started lazily by convert()).

    After a fork (gunicorn workers) the child gets its own converter; the parent's is left alone.
    """
    global _singleton, _singleton_pid
    with _singleton_lock:
        if _singleton is None or _singleton_pid != os.getpid():
            _singleton = Converter()  # with the process's OfficeSettings
            _singleton_pid = os.getpid()
            atexit.register(_stop_singleton, _singleton, _singleton_pid)
        return _singleton


def _stop_singleton(conv: Converter, pid: int) -> None:
    if os.getpid() == pid:
        conv.stop()


# --------------------------------------------------------------------------- cold path


def cold_filter_option(filter_data: dict[str, object] | None = None) -> str:
    """``pdf:writer_pdf_Export:{json}`` for ``soffice --convert-to`` (JSON form, LO >= 7.4)."""
    typed = {}
    for k, v in (filter_data or PDFA_FILTER_DATA).items():
        if isinstance(v, bool):
            typed[k] = {"type": "boolean", "value": "true" if v else "false"}
        elif isinstance(v, int):
            typed[k] = {"type": "long", "value": str(v)}
        else:
            typed[k] = {"type": "string", "value": str(v)}
    return "pdf:writer_pdf_Export:" + json.dumps(typed, separators=(",", ":"))


def cold_convert(
    docx_bytes: bytes,
    *,
    timeout: float = 180.0,
    profile_dir: str | None = None,
    soffice: str | None = None,
    font_aliases: bool | None = None,
) -> bytes:
    """One ``soffice --headless --convert-to`` process per file (fallback and benchmark).

    ``profile_dir``: reuse a LibreOffice user profile across calls (must not be the warm
    converter's); default: a fresh one, removed afterwards.
    """
    check_docx(docx_bytes)
    soffice = find_soffice(soffice)
    font_aliases = _office.font_aliases if font_aliases is None else font_aliases
    if not soffice:
        raise ConverterUnavailable("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="casefile-cold-") as tmp:
        work = Path(tmp)
        profile = Path(profile_dir) if profile_dir else work / "profile"
        profile.mkdir(parents=True, exist_ok=True)
        src = work / "document.docx"
        src.write_bytes(docx_bytes)
        cmd = [
            soffice,
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nolockcheck",
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--infilter=MS Word 2007 XML",
            "--convert-to",
            cold_filter_option(),
            "--outdir",
            str(work / "out"),
            str(src),
        ]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=_office_env(work, font_aliases),
            cwd=tmp,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ConversionError(
                f"soffice --convert-to did not finish within {timeout:.0f}s"
            ) from None
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        pdf_path = work / "out" / "document.pdf"
        if proc.returncode != 0 or not pdf_path.exists():
            msg = out.decode("utf-8", "replace").strip()[-800:]
            raise ConversionError(f"soffice --convert-to failed (exit {proc.returncode}): {msg}")
        pdf = pdf_path.read_bytes()
        if not pdf.startswith(b"%PDF-"):
            raise ConversionError("soffice --convert-to output is not a PDF")
        return pdf
