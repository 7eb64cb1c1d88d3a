"""A private D-Bus session bus and a fake freedesktop Secret Service provider on it, for keychain tests.

``PrivateSessionBus`` runs the real ``dbus-daemon`` with a throw-away configuration (no service
directories, so nothing is started on demand: a test without a provider really has none).
``FakeSecretService`` owns ``org.freedesktop.secrets`` on that bus from a thread and answers the part
of the Secret Service API the desk uses, with the spec's signatures (a call with another signature
gets ``InvalidArgs``, as from a real provider): Service.OpenSession (``plain`` only), SearchItems,
Unlock (through a Prompt when the collection is locked), GetSecrets, ReadAlias; Collection.CreateItem
(replace), SearchItems; Item.GetSecret, Delete; Prompt.Prompt/Dismiss with the Completed signal;
Session.Close; Properties.Get for Locked/Label/Attributes/Items. Secrets live in memory only.

Fixtures (in tests/conftest.py: a test module asks for them by name): ``session_bus`` (one bus per
module, skipped off Linux), ``fake_secret_service`` (a fresh provider per test,
``DBUS_SESSION_BUS_ADDRESS`` pointing at the bus, BOXOFFICE_STRIPE_SECRET_KEY unset) and ``keychain``
(that provider on Linux; an in-memory keyring backend on Windows/macOS, where the desk uses keyring).
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, HeaderFields, Message, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import Proxy, open_dbus_connection

BUS_NAME = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
ALIAS_DEFAULT = "/org/freedesktop/secrets/aliases/default"
LOGIN = "/org/freedesktop/secrets/collection/login"
SS = "org.freedesktop.Secret."
PROPS = "org.freedesktop.DBus.Properties"

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class PrivateSessionBus:
    """A real dbus-daemon on a socket in a temporary folder; ``address`` for DBUS_SESSION_BUS_ADDRESS."""

    def __init__(self) -> None:
        daemon = shutil.which("dbus-daemon")
        if daemon is None:
            pytest.fail("dbus-daemon is not installed: the keychain tests need it (package dbus-daemon)")
        self._dir = tempfile.TemporaryDirectory(prefix="boxoffice-bus-")
        folder = Path(self._dir.name)
        (folder / "bus.conf").write_text(_BUS_CONFIG.format(socket=folder / "bus"))
        self.process = subprocess.Popen(
            [daemon, f"--config-file={folder / 'bus.conf'}", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        self.address = self.process.stdout.readline().strip()
        if not self.address:
            self.stop()
            pytest.fail(f"dbus-daemon did not start: {self.process.stderr.read() if self.process.stderr else ''}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self._dir.cleanup()


@dataclass
class FakeItem:
    collection: str
    label: str
    attributes: dict[str, str]
    secret: bytes
    content_type: str


@dataclass
class PendingPrompt:
    action: str                      # "unlock"
    objects: list[str] = field(default_factory=list)


class _DBusError(Exception):
    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name, self.text = name, text


# The "in" signatures of the methods this fake answers, as in the Secret Service spec.
_SIGNATURES = {
    (SS + "Service", "OpenSession"): "sv",
    (SS + "Service", "SearchItems"): "a{ss}",
    (SS + "Service", "Unlock"): "ao",
    (SS + "Service", "GetSecrets"): "aoo",
    (SS + "Service", "ReadAlias"): "s",
    (SS + "Collection", "CreateItem"): "a{sv}(oayays)b",
    (SS + "Collection", "SearchItems"): "a{ss}",
    (SS + "Item", "GetSecret"): "o",
    (SS + "Item", "Delete"): "",
    (SS + "Prompt", "Prompt"): "s",
    (SS + "Prompt", "Dismiss"): "",
    (SS + "Session", "Close"): "",
    (PROPS, "Get"): "ss",
}


class FakeSecretService:
    """The provider. ``locked`` locks the login collection; ``prompt_answer`` is what its unlock
    prompt does when shown: "unlock", "dismiss" or "ignore" (never completes)."""

    def __init__(self, address: str, *, locked: bool = False, prompt_answer: str = "unlock") -> None:
        self.address = address
        self.locked = locked
        self.prompt_answer = prompt_answer
        self.items: dict[str, FakeItem] = {}
        self.sessions: dict[str, str] = {}      # session path -> algorithm
        self.calls: list[tuple[str, str]] = []  # (interface, member) of every call, in order
        self.prompts_shown = 0
        self._prompts: dict[str, PendingPrompt] = {}
        self._ids = itertools.count(1)
        self._stop = threading.Event()
        self._conn = open_dbus_connection(address)
        reply = Proxy(message_bus, self._conn, timeout=5).RequestName(BUS_NAME, 4)  # DO_NOT_QUEUE
        if reply != (1,):
            raise RuntimeError(f"could not own {BUS_NAME}: {reply}")
        self._thread = threading.Thread(target=self._serve, name="fake-secret-service", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ test helpers

    def add_item(self, attributes: dict[str, str], secret: bytes, label: str = "added by the test",
                 collection: str = LOGIN) -> str:
        path = f"{collection}/{next(self._ids)}"
        self.items[path] = FakeItem(collection, label, dict(attributes), secret, "text/plain")
        return path

    def secrets_for(self, attributes: dict[str, str]) -> list[bytes]:
        return [i.secret for i in list(self.items.values()) if attributes.items() <= i.attributes.items()]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._conn.close()

    # ------------------------------------------------------------------ message loop

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self._conn.receive(timeout=0.05)
            except TimeoutError:
                continue
            except OSError:
                return
            if msg.header.message_type != MessageType.method_call:
                continue
            try:
                signature, body, after = self._dispatch(msg)
                self._conn.send(new_method_return(msg, signature, body))
                if after is not None:
                    after()
            except _DBusError as exc:
                self._conn.send(new_error(msg, exc.name, "s", (exc.text,)))

    def _dispatch(self, msg: Message) -> tuple[str | None, tuple[Any, ...], Any]:
        fields = msg.header.fields
        path, interface, member = fields[HeaderFields.path], fields.get(HeaderFields.interface), fields[
            HeaderFields.member]
        self.calls.append((interface or "", member))
        expected = _SIGNATURES.get((interface, member))
        if expected is None:
            raise _DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"{interface}.{member} is not here")
        if fields.get(HeaderFields.signature, "") != expected:
            raise _DBusError("org.freedesktop.DBus.Error.InvalidArgs",
                             f"{member} takes ({expected}), got ({fields.get(HeaderFields.signature, '')})")
        handler = getattr(self, f"_{interface.rsplit('.', 1)[-1]}_{member}")
        return handler(path, *msg.body)

    # ------------------------------------------------------------------ objects

    def _collection(self, path: str) -> str:
        if path in (ALIAS_DEFAULT, LOGIN):
            return LOGIN
        raise _DBusError("org.freedesktop.DBus.Error.UnknownObject", f"no collection {path}")

    def _item(self, path: str) -> FakeItem:
        if path not in self.items:
            raise _DBusError("org.freedesktop.Secret.Error.NoSuchObject", f"no item {path}")
        return self.items[path]

    def _session(self, path: str) -> None:
        if path not in self.sessions:
            raise _DBusError("org.freedesktop.Secret.Error.NoSession", f"no session {path}")

    def _is_locked(self, path: str) -> bool:
        return self.locked and (path in (ALIAS_DEFAULT, LOGIN) or path in self.items)

    def _search(self, attributes: dict[str, str]) -> tuple[list[str], list[str]]:
        found = [p for p, i in self.items.items() if attributes.items() <= i.attributes.items()]
        return [p for p in found if not self._is_locked(p)], [p for p in found if self._is_locked(p)]

    # ------------------------------------------------------------------ org.freedesktop.Secret.Service

    def _Service_OpenSession(self, path: str, algorithm: str, _input: tuple[str, Any]):
        if algorithm != "plain":
            raise _DBusError("org.freedesktop.DBus.Error.NotSupported", f"algorithm {algorithm} not supported")
        session = f"{SERVICE_PATH}/session/s{next(self._ids)}"
        self.sessions[session] = algorithm
        return "vo", (("s", ""), session), None

    def _Service_SearchItems(self, path: str, attributes: dict[str, str]):
        unlocked, locked = self._search(attributes)
        return "aoao", (unlocked, locked), None

    def _Service_ReadAlias(self, path: str, name: str):
        return "o", (LOGIN if name == "default" else "/",), None

    def _Service_Unlock(self, path: str, objects: list[str]):
        if not any(self._is_locked(o) for o in objects):
            return "aoo", (list(objects), "/"), None
        prompt = f"{SERVICE_PATH}/prompt/p{next(self._ids)}"
        self._prompts[prompt] = PendingPrompt("unlock", list(objects))
        return "aoo", ([], prompt), None

    def _Service_GetSecrets(self, path: str, items: list[str], session: str):
        self._session(session)
        secrets = {p: (session, b"", self.items[p].secret, self.items[p].content_type)
                   for p in items if p in self.items and not self._is_locked(p)}
        return "a{o(oayays)}", (secrets,), None

    # ------------------------------------------------------------------ Collection, Item, Session

    def _Collection_CreateItem(self, path: str, properties: dict[str, tuple[str, Any]],
                               secret: tuple[str, bytes, bytes, str], replace: bool):
        collection = self._collection(path)
        if self._is_locked(collection):
            raise _DBusError("org.freedesktop.Secret.Error.IsLocked", "the collection is locked")
        session, _params, value, content_type = secret
        self._session(session)
        label = properties.get(SS + "Item.Label", ("s", ""))[1]
        attributes = properties.get(SS + "Item.Attributes", ("a{ss}", {}))[1]
        if replace:
            for item_path, item in self.items.items():
                if item.collection == collection and item.attributes == attributes:
                    item.secret, item.label, item.content_type = bytes(value), label, content_type
                    return "oo", (item_path, "/"), None
        item_path = f"{collection}/{next(self._ids)}"
        self.items[item_path] = FakeItem(collection, label, dict(attributes), bytes(value), content_type)
        return "oo", (item_path, "/"), None

    def _Collection_SearchItems(self, path: str, attributes: dict[str, str]):
        unlocked, locked = self._search(attributes)
        return "ao", (unlocked + locked,), None

    def _Item_GetSecret(self, path: str, session: str):
        self._session(session)
        item = self._item(path)
        if self._is_locked(path):
            raise _DBusError("org.freedesktop.Secret.Error.IsLocked", "the item is locked")
        return "(oayays)", ((session, b"", item.secret, item.content_type),), None

    def _Item_Delete(self, path: str):
        self._item(path)
        if self._is_locked(path):
            raise _DBusError("org.freedesktop.Secret.Error.IsLocked", "the item is locked")
        del self.items[path]
        return "o", ("/",), None

    def _Session_Close(self, path: str):
        self._session(path)
        del self.sessions[path]
        return None, (), None

    def _Properties_Get(self, path: str, interface: str, name: str):
        if path in (ALIAS_DEFAULT, LOGIN) and interface == SS + "Collection":
            values = {"Locked": ("b", self.locked), "Label": ("s", "Login"),
                      "Items": ("ao", [p for p, i in self.items.items() if i.collection == LOGIN])}
        elif path in self.items and interface == SS + "Item":
            item = self.items[path]
            values = {"Locked": ("b", self._is_locked(path)), "Label": ("s", item.label),
                      "Attributes": ("a{ss}", dict(item.attributes))}
        else:
            raise _DBusError("org.freedesktop.DBus.Error.UnknownObject", f"no {interface} at {path}")
        if name not in values:
            raise _DBusError("org.freedesktop.DBus.Error.UnknownProperty", f"no property {name}")
        return "v", (values[name],), None

    # ------------------------------------------------------------------ Prompt

    def _Prompt_Prompt(self, path: str, window_id: str):
        pending = self._prompts.get(path)
        if pending is None:
            raise _DBusError("org.freedesktop.Secret.Error.NoSuchObject", f"no prompt {path}")
        self.prompts_shown += 1
        if self.prompt_answer == "unlock":
            self.locked = False
            return None, (), lambda: self._complete(path, False, ("ao", pending.objects))
        if self.prompt_answer == "dismiss":
            return None, (), lambda: self._complete(path, True, ("ao", []))
        return None, (), None  # "ignore": the user walked away; the client times out and dismisses

    def _Prompt_Dismiss(self, path: str):
        if path not in self._prompts:
            raise _DBusError("org.freedesktop.Secret.Error.NoSuchObject", f"no prompt {path}")
        self.calls.append((SS + "Prompt", "Dismissed"))
        return None, (), lambda: self._complete(path, True, ("ao", []))

    def _complete(self, path: str, dismissed: bool, result: tuple[str, Any]) -> None:
        del self._prompts[path]
        self._conn.send(new_signal(DBusAddress(path, interface=SS + "Prompt"), "Completed", "bv",
                                   (dismissed, result)))
