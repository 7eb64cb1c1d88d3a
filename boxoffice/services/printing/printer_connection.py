"""A desk's receipt printer connection: parse its setting, open it with python-escpos, send one job.

The setting is one line: ``network:HOST[:PORT]``, ``usb:VENDOR:PRODUCT`` (hex ids),
``serial:DEVICE[:BAUD]`` or ``file:PATH``. Every failure (off, unplugged, out of paper, not
answering within ``timeout`` seconds, the connection dropped) becomes a ``PrinterFault`` whose
text says why in words a volunteer can act on; nothing here waits longer than the timeout.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any

from escpos import printer as escpos_printers
from escpos.constants import RT_MASK_NOPAPER, RT_STATUS_PAPER

from boxoffice.errors import InvalidInput, UserError

log = logging.getLogger(__name__)

DEFAULT_PORT = 9100
DEFAULT_BAUD = 9600
DEFAULT_TIMEOUT_S = 5.0
KINDS = ("network", "usb", "serial", "file")


class PrinterFault(UserError):
    """A print job did not reach paper; ``reason`` is the short why ("out of paper")."""

    def __init__(self, reason: str, *, what: str = "Receipt not printed") -> None:
        super().__init__(f"{what}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class PrinterSpec:
    kind: str
    target: str                 # host, device file or path
    port: int = DEFAULT_PORT    # network port, or serial baud rate
    vendor: int = 0
    product: int = 0

    @property
    def label(self) -> str:
        if self.kind == "network":
            return f"network {self.target}:{self.port}"
        if self.kind == "usb":
            return f"USB {self.vendor:04x}:{self.product:04x}"
        if self.kind == "serial":
            return f"serial {self.target} at {self.port} baud"
        return f"file {self.target}"


_HELP = ("Give the receipt printer as network:HOST[:PORT], usb:VENDOR:PRODUCT (hex ids, e.g. usb:04b8:0202), "
         "serial:DEVICE[:BAUD] or file:PATH.")


def parse_spec(text: str) -> PrinterSpec:
    """``"network:10.0.0.5:9100"`` -> ``PrinterSpec``; a clear ``InvalidInput`` for anything else."""
    value = (text or "").strip()
    kind, _, rest = value.partition(":")
    kind = kind.lower()
    if kind not in KINDS or not rest.strip():
        raise InvalidInput(_HELP, field="receipt_printer")
    try:
        if kind == "network":
            host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
            number = int(port) if port else DEFAULT_PORT
            if not host.strip() or not 0 < number < 65536:
                raise ValueError
            return PrinterSpec("network", host.strip(), number)
        if kind == "usb":
            vendor, _, product = rest.partition(":")
            return PrinterSpec("usb", "", vendor=int(vendor, 16), product=int(product, 16))
        if kind == "serial":
            device, _, baud = rest.rpartition(":") if rest.rsplit(":", 1)[-1].isdigit() else (rest, "", "")
            return PrinterSpec("serial", device, int(baud) if baud else DEFAULT_BAUD)
        return PrinterSpec("file", rest)
    except ValueError:
        raise InvalidInput(_HELP, field="receipt_printer") from None


def _open(spec: PrinterSpec, timeout: float) -> Any:
    if spec.kind == "network":
        device: Any = escpos_printers.Network(spec.target, port=spec.port, timeout=timeout)
    elif spec.kind == "file":
        device = escpos_printers.File(spec.target, auto_flush=True)
    elif spec.kind == "usb":
        if not escpos_printers.Usb.is_usable():
            raise PrinterFault("USB printers need the pyusb package on this computer")
        device = escpos_printers.Usb(spec.vendor, spec.product, timeout=int(timeout * 1000))
    else:
        if not escpos_printers.Serial.is_usable():
            raise PrinterFault("serial printers need the pyserial package on this computer")
        device = escpos_printers.Serial(spec.target, baudrate=spec.port, timeout=timeout)
    device.open()
    return device


def _check_paper(device: Any, spec: PrinterSpec) -> None:
    """Ask a network printer for its paper sensor (``DLE EOT 4``); it must answer within the timeout."""
    device._raw(RT_STATUS_PAPER)   # python-escpos sends raw commands through _raw only
    status = device._read()
    if not status:
        raise PrinterFault(f"the printer at {spec.label} closed the connection")
    if status[0] & RT_MASK_NOPAPER == RT_MASK_NOPAPER:
        raise PrinterFault("the printer is out of paper")


def send(spec: PrinterSpec, job: bytes, *, timeout: float = DEFAULT_TIMEOUT_S,
         what: str = "Receipt not printed") -> None:
    """Send ``job`` to the printer in one piece, or raise ``PrinterFault`` within ``timeout`` seconds."""
    device = None
    try:
        try:
            device = _open(spec, timeout)
        except PrinterFault as fault:
            raise PrinterFault(fault.reason, what=what) from None
        except Exception as exc:
            raise PrinterFault(_unreachable(spec, exc), what=what) from exc
        try:
            if spec.kind == "network":
                _check_paper(device, spec)
            device._raw(job)
            if spec.kind == "file":
                device.flush()
        except PrinterFault as fault:
            raise PrinterFault(fault.reason, what=what) from None
        except TimeoutError as exc:
            raise PrinterFault(f"the printer at {spec.label} did not answer within {timeout:g} s "
                               "(is it busy, or is its cover open?)", what=what) from exc
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
            # a printer that hangs up answers with an empty read or a reset, depending on timing
            raise PrinterFault(f"the printer at {spec.label} closed the connection", what=what) from exc
        except OSError as exc:
            raise PrinterFault(f"the connection to {spec.label} was lost ({_short(exc)})", what=what) from exc
        except Exception as exc:
            raise PrinterFault(f"{spec.label} refused the job ({_short(exc)})", what=what) from exc
    finally:
        if device is not None:
            try:
                device.close()
            except (OSError, ValueError, AttributeError) as exc:   # a dead connection may not close cleanly
                log.debug("closing %s failed: %s", spec.label, exc)


def _unreachable(spec: PrinterSpec, exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__ or exc
    if isinstance(cause, ConnectionRefusedError):
        return f"nothing answers at {spec.label} (is the printer switched on?)"
    if isinstance(cause, TimeoutError | socket.timeout):
        return f"the printer at {spec.label} did not answer within the time allowed (is it switched on?)"
    if spec.kind in ("file", "serial", "usb"):
        return f"{spec.label} was not found (is the printer plugged in?)"
    return f"{spec.label} cannot be reached ({_short(cause)})"


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
