"""A small client of the freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC) over D-Bus.

Linux desks keep the Stripe key here. It speaks the D-Bus API with jeepney (pure Python) and opens
its session with the spec's mandatory ``plain`` algorithm: the secret travels unencrypted over the
user's own session bus, which only that user's processes can connect to. So the desk needs neither
``secretstorage`` nor ``cryptography`` (an 11 MB Rust extension in the installer).

Items use keyring's SecretService layout (attributes ``service`` and ``username``, plus
``application``; the same label), so a key saved by an earlier version through ``keyring`` is found,
and ``keyring`` still finds a key saved here.

Every failure is a :class:`SecretServiceError` whose message says what happened and never holds the
secret: :class:`SecretServiceUnavailable` when there is no session bus or no provider on it,
:class:`SecretServiceLocked` when the keychain stays locked (its unlock prompt dismissed or not
answered in time).
"""

from __future__ import annotations

import os
from typing import Any, Self

from jeepney import DBusAddress, DBusErrorResponse, HeaderFields, MatchRule, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, Proxy, open_dbus_connection

BUS_NAME = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
SERVICE_IFACE = "org.freedesktop.Secret.Service"
COLLECTION_IFACE = "org.freedesktop.Secret.Collection"
ITEM_IFACE = "org.freedesktop.Secret.Item"
SESSION_IFACE = "org.freedesktop.Secret.Session"
PROMPT_IFACE = "org.freedesktop.Secret.Prompt"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
NO_PROMPT = "/"
# keyring's SecretService backend writes this ``application`` attribute; keeping it lets a key saved
# here replace (CreateItem with replace=True matches every attribute) one that keyring saved.
KEYRING_APPLICATION = "Python keyring library"

CALL_TIMEOUT = 10.0     # seconds for one D-Bus call (a provider started on demand needs a moment)
PROMPT_TIMEOUT = 120.0  # seconds the user has to answer the keychain's unlock prompt

_NO_PROVIDER_ERRORS = ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner")


class SecretServiceError(Exception):
    """The Secret Service could not be used; the message says why (never the secret)."""


class SecretServiceUnavailable(SecretServiceError):
    """No D-Bus session bus, or no Secret Service provider on it."""


class SecretServiceLocked(SecretServiceError):
    """The keychain stayed locked: its unlock prompt was dismissed or not answered in time."""


def query(service: str, username: str) -> dict[str, str]:
    """The search attributes of keyring's SecretService backend."""
    return {"service": service, "username": username}


class SecretService:
    """One connection to the Secret Service with a ``plain`` session; use as a context manager."""

    def __init__(self, connection: DBusConnection, *, call_timeout: float | None = None,
                 prompt_timeout: float | None = None) -> None:
        self._conn = connection
        self.call_timeout = CALL_TIMEOUT if call_timeout is None else call_timeout
        self.prompt_timeout = PROMPT_TIMEOUT if prompt_timeout is None else prompt_timeout
        self.session = ""

    @classmethod
    def connect(cls, bus_address: str | None = None, **timeouts: float | None) -> SecretService:
        """Connect to the session bus (``DBUS_SESSION_BUS_ADDRESS`` unless given) and open a session."""
        address = bus_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "").strip()
        if not address:
            raise SecretServiceUnavailable(
                "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
        try:
            connection = open_dbus_connection(address, auth_timeout=timeouts.get("call_timeout") or CALL_TIMEOUT)
        except (OSError, RuntimeError, ValueError, KeyError, StopIteration, DBusErrorResponse) as exc:
            raise SecretServiceUnavailable(
                f"the D-Bus session bus cannot be reached ({type(exc).__name__}: {exc})") from None
        service = cls(connection, **timeouts)
        try:
            service._open_session()
        except BaseException:
            connection.close()
            raise
        return service

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            if self.session:
                self._call(self.session, SESSION_IFACE, "Close")
        except SecretServiceError:
            pass  # the provider drops the session with the connection anyway
        finally:
            self.session = ""
            self._conn.close()

    # ------------------------------------------------------------------ D-Bus plumbing

    def _call(self, path: str, interface: str, method: str, signature: str | None = None,
              body: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        message = new_method_call(DBusAddress(path, BUS_NAME, interface), method, signature, body)
        try:
            reply = self._conn.send_and_get_reply(message, timeout=self.call_timeout)
        except TimeoutError:
            raise SecretServiceError(
                f"the Secret Service did not answer {method} within {self.call_timeout:g} s") from None
        except OSError as exc:
            raise SecretServiceError(f"the D-Bus connection failed during {method} ({type(exc).__name__})") from None
        if reply.header.message_type == MessageType.error:
            name = reply.header.fields.get(HeaderFields.error_name, "")
            if name in _NO_PROVIDER_ERRORS or name.startswith("org.freedesktop.DBus.Error.Spawn."):
                raise SecretServiceUnavailable(
                    "no Secret Service provider (such as GNOME Keyring or KWallet) is running on the "
                    "D-Bus session bus")
            detail = reply.body[0] if reply.body and isinstance(reply.body[0], str) else ""
            raise SecretServiceError(f"{method} failed: {name}" + (f" ({detail})" if detail else ""))
        return tuple(reply.body)

    def _property(self, path: str, interface: str, name: str) -> Any:
        (variant,) = self._call(path, PROPERTIES_IFACE, "Get", "ss", (interface, name))
        return variant[1]

    def _open_session(self) -> None:
        _output, self.session = self._call(SERVICE_PATH, SERVICE_IFACE, "OpenSession", "sv", ("plain", ("s", "")))

    def _prompt(self, prompt: str, what: str) -> tuple[str, Any]:
        """Show a prompt and wait for its Completed signal; returns its result variant."""
        rule = MatchRule(type="signal", interface=PROMPT_IFACE, member="Completed", path=prompt)
        with self._conn.filter(rule) as completed:
            try:  # ask the bus to route the signal to us before the prompt can complete
                Proxy(message_bus, self._conn, timeout=self.call_timeout).AddMatch(rule)
            except (DBusErrorResponse, TimeoutError, OSError) as exc:
                raise SecretServiceError(f"the D-Bus session bus refused to watch the prompt ({exc})") from None
            self._call(prompt, PROMPT_IFACE, "Prompt", "s", ("",))  # no parent window id
            try:
                signal = self._conn.recv_until_filtered(completed, timeout=self.prompt_timeout)
            except TimeoutError:
                try:
                    self._call(prompt, PROMPT_IFACE, "Dismiss")
                except SecretServiceError:
                    pass
                raise SecretServiceLocked(
                    f"the keychain asked to be unlocked ({what}) and had no answer within "
                    f"{self.prompt_timeout:g} s") from None
            except OSError as exc:
                raise SecretServiceError(f"the D-Bus connection failed during a prompt ({type(exc).__name__})") \
                    from None
        dismissed: bool
        result: tuple[str, Any]  # a D-Bus variant: (signature, value)
        dismissed, result = signal.body
        if dismissed:
            raise SecretServiceLocked(f"the keychain's unlock prompt was dismissed ({what})")
        return result

    # ------------------------------------------------------------------ spec operations

    def search(self, attributes: dict[str, str]) -> tuple[list[str], list[str]]:
        """SearchItems in every collection: (unlocked item paths, locked item paths)."""
        unlocked, locked = self._call(SERVICE_PATH, SERVICE_IFACE, "SearchItems", "a{ss}", (attributes,))
        return list(unlocked), list(locked)

    def unlock(self, paths: list[str]) -> list[str]:
        """Unlock items or collections, through the provider's prompt when it asks for one."""
        if not paths:
            return []
        unlocked, prompt = self._call(SERVICE_PATH, SERVICE_IFACE, "Unlock", "ao", (paths,))
        unlocked = list(unlocked)
        if prompt != NO_PROMPT:
            signature, value = self._prompt(prompt, "to read or change the Stripe key")
            if signature == "ao":
                unlocked += [p for p in value if p not in unlocked]
        if set(paths) - set(unlocked):
            raise SecretServiceLocked("the keychain stayed locked")
        return unlocked

    def get_secret(self, attributes: dict[str, str]) -> bytes | None:
        """The secret of the first item matching ``attributes`` (an unlocked one first), or None."""
        unlocked, locked = self.search(attributes)
        if unlocked:
            path = unlocked[0]
        elif locked:
            path = self.unlock(locked[:1])[0]
        else:
            return None
        (secrets,) = self._call(SERVICE_PATH, SERVICE_IFACE, "GetSecrets", "aoo", ([path], self.session))
        if path not in secrets:
            raise SecretServiceLocked("the keychain did not hand out the secret (the item is still locked)")
        _session, _parameters, value, _content_type = secrets[path]
        return bytes(value)

    def create_item(self, label: str, attributes: dict[str, str], secret: bytes,
                    collection: str = DEFAULT_COLLECTION, content_type: str = "text/plain") -> str:
        """CreateItem with replace=True (an item with the same attributes is overwritten); its path."""
        if self._property(collection, COLLECTION_IFACE, "Locked"):
            self.unlock([collection])
        properties = {
            f"{ITEM_IFACE}.Label": ("s", label),
            f"{ITEM_IFACE}.Attributes": ("a{ss}", attributes),
        }
        item, prompt = self._call(collection, COLLECTION_IFACE, "CreateItem", "a{sv}(oayays)b",
                                  (properties, (self.session, b"", secret, content_type), True))
        if item == NO_PROMPT:
            signature, value = self._prompt(prompt, "to save the Stripe key")
            item = value if signature == "o" else NO_PROMPT
            if item == NO_PROMPT:
                raise SecretServiceError("the keychain did not save the item")
        return str(item)

    def delete(self, paths: list[str]) -> None:
        """Delete items (unlocking them first when they are locked)."""
        locked = [p for p in paths if self._property(p, ITEM_IFACE, "Locked")]
        self.unlock(locked)
        for path in paths:
            (prompt,) = self._call(path, ITEM_IFACE, "Delete")
            if prompt != NO_PROMPT:
                self._prompt(prompt, "to remove the Stripe key")


# ---------------------------------------------------------------------- keyring-like functions


def get_password(service: str, username: str, **connect: Any) -> str | None:
    with SecretService.connect(**connect) as secrets:
        value = secrets.get_secret(query(service, username))
    return None if value is None else value.decode("utf-8")


def set_password(service: str, username: str, password: str, **connect: Any) -> None:
    """Save (or replace) the password; other items for the same service and username are removed."""
    attributes = {**query(service, username), "application": KEYRING_APPLICATION}
    with SecretService.connect(**connect) as secrets:
        item = secrets.create_item(f"Password for '{username}' on '{service}'", attributes,
                                   password.encode("utf-8"))
        unlocked, locked = secrets.search(query(service, username))
        stale = [p for p in unlocked + locked if p != item]
        if stale:  # e.g. saved by another tool with other extra attributes: one key per account
            secrets.delete(stale)


def delete_password(service: str, username: str, **connect: Any) -> bool:
    """Remove every item for the service and username; False when there was none."""
    with SecretService.connect(**connect) as secrets:
        unlocked, locked = secrets.search(query(service, username))
        if unlocked or locked:
            secrets.delete(unlocked + locked)
    return bool(unlocked or locked)
