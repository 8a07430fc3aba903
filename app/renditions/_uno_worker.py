"""UNO side of the warm converter. Runs under the Python that has LibreOffice's ``uno`` module
(Debian: /usr/bin/python3 with python3-uno), NOT under the project's virtualenv.

It starts one soffice listening on a private named pipe, connects to it, then serves requests
read from stdin, one JSON object per line, answering one JSON object per line on stdout:

    -> {"in": "/tmp/x/in.docx", "out": "/tmp/x/out.pdf", "filter_data": {"SelectPdfVersion": 2}}
    <- {"ok": true, "ms": 412}
    <- {"ok": false, "fatal": false, "error": "..."}     (this document failed)
    <- {"ok": false, "fatal": true, "error": "..."}      (soffice is gone: restart me)

The first line written is {"ready": true, "pid": <soffice pid>} (or {"ready": false, ...}).
On EOF of stdin it closes soffice and exits. The parent kills the whole process group
(this worker and soffice) on a hang. stdlib + uno only.

Nothing outlives this helper or the process that started it: a watchdog process in the group
kills the whole group (soffice, oosplash, soffice.bin, this helper) as soon as either is gone,
however it went (kill -9 included). Not a parent-death signal: that fires when the *thread*
that started the helper exits, and a conversion may be started on a short-lived thread.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

_out = sys.stdout
sys.stdout = sys.stderr  # nothing but protocol lines on the real stdout


def send(obj: dict) -> None:
    _out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    _out.flush()


def prop(name: str, value) -> PropertyValue:
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def _file_url(path: str) -> str:
    return uno.systemPathToFileUrl(os.path.abspath(path))


class Office:
    def __init__(self, soffice: str, profile_dir: str, pipe_name: str, start_timeout: float):
        self.soffice = soffice
        self.profile_url = _file_url(profile_dir)
        self.pipe_name = pipe_name
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.desktop = None

    def start(self) -> None:
        cmd = [
            self.soffice,
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            "--nofirststartwizard",
            f"-env:UserInstallation={self.profile_url}",
            f"--accept=pipe,name={self.pipe_name};urp;StarOffice.ComponentContext",
        ]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=sys.stderr
        )
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        url = f"uno:pipe,name={self.pipe_name};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"soffice exited with code {self.proc.returncode} at start-up")
            try:
                ctx = resolver.resolve(url)
                break
            except NoConnectException:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"soffice did not accept a connection within {self.start_timeout:.0f}s"
                    ) from None
                time.sleep(0.1)
        smgr = ctx.ServiceManager
        self.desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def convert(self, src: str, dst: str, filter_data: dict) -> None:
        load_props = (
            prop("Hidden", True),
            prop("ReadOnly", True),
            prop("FilterName", "MS Word 2007 XML"),
            prop("MacroExecutionMode", 0),  # NEVER_EXECUTE
            prop("UpdateDocMode", 0),  # NO_UPDATE: never fetch linked content
        )
        doc = self.desktop.loadComponentFromURL(_file_url(src), "_blank", 0, load_props)
        if doc is None:
            raise ValueError("LibreOffice could not load the document (not a valid DOCX?)")
        try:
            fd = uno.Any(
                "[]com.sun.star.beans.PropertyValue",
                tuple(prop(k, v) for k, v in filter_data.items()),
            )
            store_props = (prop("FilterName", "writer_pdf_Export"), prop("FilterData", fd))
            uno.invoke(doc, "storeToURL", (_file_url(dst), store_props))
        finally:
            try:
                doc.close(True)
            except Exception:
                try:
                    doc.dispose()
                except Exception:
                    pass

    def stop(self) -> None:
        try:
            if self.desktop is not None:
                self.desktop.terminate()
        except Exception:
            pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def start_watchdog(interval: float = 0.2) -> int | None:
    """Fork a watchdog that kills this process group once this helper exits or the process
    that started it is gone (the helper is then re-parented). Only when the helper leads its
    own group (the converter starts it with start_new_session), never the caller's group.
    Returns the watchdog's pid (None if not started)."""
    helper, starter = os.getpid(), os.getppid()
    if os.getpgrp() != helper:
        return None
    pid = os.fork()
    if pid:
        return pid
    try:  # the watchdog: hold none of the protocol pipes, so EOF still means "helper gone"
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        while os.getppid() == helper and _parent_of(helper) in (starter, None):
            if _parent_of(helper) is None:  # no /proc: ask whether the starter still exists
                try:
                    os.kill(starter, 0)
                except ProcessLookupError:
                    break
            time.sleep(interval)
    finally:
        os.killpg(0, signal.SIGKILL)  # soffice and every child of it, the helper, and us
        os._exit(0)


def _is_fatal(exc: BaseException) -> bool:
    name = type(exc).__name__
    return name in {"DisposedException", "RuntimeException"} or "Binary URP bridge" in str(exc)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--soffice", required=True)
    ap.add_argument("--profile", required=True)
    ap.add_argument("--pipe", required=True)
    ap.add_argument("--start-timeout", type=float, default=60.0)
    args = ap.parse_args()
    start_watchdog()

    office = Office(args.soffice, args.profile, args.pipe, args.start_timeout)
    try:
        office.start()
    except Exception as exc:
        send({"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        if office.proc is not None and office.proc.poll() is None:
            office.proc.kill()
        return 1
    send({"ready": True, "pid": office.proc.pid})

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError:
            send({"ok": False, "fatal": False, "error": "bad request line"})
            continue
        if not office.alive():
            send({"ok": False, "fatal": True, "error": "soffice is not running"})
            return 2
        t0 = time.monotonic()
        try:
            office.convert(req["in"], req["out"], req.get("filter_data") or {})
        except Exception as exc:
            fatal = _is_fatal(exc) or not office.alive()
            send({"ok": False, "fatal": fatal, "error": f"{type(exc).__name__}: {exc}"})
            if fatal:
                return 2
            continue
        send({"ok": True, "ms": round((time.monotonic() - t0) * 1000)})

    office.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
