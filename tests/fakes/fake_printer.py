"""A receipt printer on 127.0.0.1 for tests: records every byte, answers status queries, and misbehaves.

``mode`` is ``ok`` (answers ``DLE EOT 4`` with "paper present" and records the job), ``no_paper``
(answers "paper out"), ``hang`` (accepts, reads nothing, answers nothing), ``drop`` (closes the
connection as soon as it is made) or ``refuse`` (the port is closed: connecting fails). ``decode``
turns recorded bytes into the commands the tests assert on.
"""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass, field

DLE_EOT = b"\x10\x04"
PAPER_OK, PAPER_OUT = 0x12, 0x72


class FakePrinter:
    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.jobs: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._open_connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, name="fake-printer", daemon=True)
        self._thread.start()

    @property
    def spec(self) -> str:
        return f"network:127.0.0.1:{self.port}"

    @property
    def received(self) -> bytes:
        with self._lock:
            return b"".join(self.jobs)

    def refuse(self) -> None:
        """Close the listening port: from now on nothing answers (a printer switched off)."""
        self.mode = "refuse"
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._open_connections:
            conn.close()
        self._server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                if self.mode == "refuse":
                    return
                continue
            if self.mode == "drop":
                conn.close()
                continue
            if self.mode == "hang":
                self._open_connections.append(conn)   # held open, never read
                continue
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        data = bytearray()
        conn.settimeout(5)
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
                while DLE_EOT + b"\x04" in data:   # a paper-sensor query: answer it, keep it out of the job
                    at = data.index(DLE_EOT + b"\x04")
                    del data[at:at + 3]
                    conn.sendall(bytes([PAPER_OUT if self.mode == "no_paper" else PAPER_OK]))
        if data:
            with self._lock:
                self.jobs.append(bytes(data))


@dataclass
class Decoded:
    """The commands found in an ESC/POS job."""

    text: str = ""
    qr_payloads: list[str] = field(default_factory=list)
    cuts: int = 0
    drawer_pulses: int = 0


_QR_STORE = re.compile(rb"\x1d\(k(..)1P0", re.DOTALL)


def decode(job: bytes) -> Decoded:
    """Walk the job: ``GS ( k`` (QR: store data fn 80, print fn 81), ``GS V`` (cut), ``ESC p`` (drawer)."""
    out = Decoded()
    text = bytearray()
    i = 0
    while i < len(job):
        b = job[i]
        if job.startswith(b"\x1d(k", i):
            size = job[i + 3] + 256 * job[i + 4]
            body = job[i + 5:i + 5 + size]
            if body[:3] == b"1P0":
                out.qr_payloads.append(body[3:].decode("utf-8"))
            i += 5 + size
        elif job.startswith(b"\x1dV", i):
            out.cuts += 1
            i += 3 if job[i + 2] in (0, 1, 48, 49) else 4
        elif job.startswith(b"\x1bp", i):
            out.drawer_pulses += 1
            i += 5
        elif job.startswith(b"\x1bt", i) or job.startswith(b"\x1b!", i) or job.startswith(b"\x1bE", i) \
                or job.startswith(b"\x1ba", i) or job.startswith(b"\x1b-", i) or job.startswith(b"\x1bM", i) \
                or job.startswith(b"\x1bd", i) or job.startswith(b"\x1bG", i) or job.startswith(b"\x1b{", i) \
                or job.startswith(b"\x1dB", i) or job.startswith(b"\x1d!", i) or job.startswith(b"\x1bV", i):
            i += 3
        elif job.startswith(b"\x1b@", i):
            i += 2
        elif job.startswith(b"\x1d|", i) or job.startswith(b"\x1b7", i):
            i += 3
        else:
            if b == 0x0A or 0x20 <= b < 0x7F or b >= 0x80:
                text.append(b)
            i += 1
    out.text = text.decode("cp437", errors="replace")
    return out
