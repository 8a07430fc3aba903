"""Local mail servers for tests: one that speaks just enough SMTP to receive messages, one that
accepts connections and never says a word (smtpd is deprecated; aiosmtpd is not installed)."""

from __future__ import annotations

import socketserver
import threading
from contextlib import contextmanager
from email import message_from_bytes, policy


class _Smtp(socketserver.StreamRequestHandler):
    received: list[bytes]
    rcpt_reply: bytes

    def handle(self):
        self.wfile.write(b"220 test\r\n")
        while line := self.rfile.readline():
            cmd = line.strip().upper()
            if cmd == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                data = b""
                while (part := self.rfile.readline()) not in (b".\r\n", b""):
                    data += part
                self.received.append(data)
                self.wfile.write(b"250 ok\r\n")
            elif cmd.startswith(b"RCPT"):
                self.wfile.write(self.rcpt_reply + b"\r\n")
            elif cmd == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def _serving(handler: type[socketserver.BaseRequestHandler]):
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def smtp_server(rcpt_reply: bytes = b"250 ok"):
    """(port, received): the raw DATA of every message the server accepted. *rcpt_reply*:
    the answer to every recipient (e.g. b"550 no such user")."""
    received: list[bytes] = []
    handler = type("Smtp", (_Smtp,), {"received": received, "rcpt_reply": rcpt_reply})
    with _serving(handler) as port:
        yield port, received


@contextmanager
def silent_server():
    """(port, connections): a server that accepts and never answers; connections counts them."""
    connections: list[int] = []
    released = threading.Event()

    class Silent(socketserver.BaseRequestHandler):
        def handle(self):
            connections.append(1)
            released.wait(60)  # hold the connection open, say nothing

    with _serving(Silent) as port:
        try:
            yield port, connections
        finally:
            released.set()


def use_smtp(monkeypatch, cf, port: int, timeout: float | None = None) -> None:
    """Point *cf* at a mail server on localhost (as CASEFILE_SMTP_* would)."""
    monkeypatch.setattr(cf.settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(cf.settings, "smtp_port", port)
    monkeypatch.setattr(cf.settings, "smtp_from", "casefile@example.test")
    if timeout is not None:
        monkeypatch.setattr(cf.settings, "smtp_timeout", timeout)


def parsed(raw: list[bytes]):
    return [message_from_bytes(m, policy=policy.default) for m in raw]
