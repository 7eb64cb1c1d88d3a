"""A small fake Stripe API on 127.0.0.1 for what localstripe lacks: Terminal, Checkout, refunds, disputes.

Objects are copies of Stripe's own fixtures (``stripe_fixtures.json``, from stripe-mock's
fixtures3.json) with their fields filled in; errors use Stripe's shape and status codes; unknown
parameters are refused as Stripe refuses them; lists page with ``starting_after`` newest first (ties
within a second too); POSTs replay by idempotency key (``Idempotent-Replayed``), a 5xx included, as
Stripe saves it for a day. Event bodies follow the account's API version (``account_version``), and
the clock spreads events over minutes with several in one second. Fault injection (status codes,
dropped or delayed responses, HTML pages) lets tests play network trouble.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).with_name("stripe_fixtures.json")).read_text(encoding="utf-8")
)
DECLINE_NUMBER = "4000000000000002"
REFUNDS_LIST_UNTIL = "2022-11-15"  # charge objects (and charge.refunded) carry ``refunds`` before this
REFUND_EVENTS_SINCE = "2024-10-28"  # refund.* events for charge refunds from this version on
# Seconds the clock moves between objects: several objects in one second, gaps of minutes.
CLOCK_STEPS = (0, 0, 1, 0, 17, 0, 0, 3, 95, 0, 2, 0, 41, 0, 0, 5)
COMMON_PARAMS = {"expand"}
OBJECT_ID = re.compile(r"^(pi|tmr|cs_test|cs|re|evt|cus|ch|dp|tml)_")
ALLOWED_PARAMS: dict[tuple[str, str], set[str]] = {
    ("post", "customers"): {"email", "name", "metadata", "description", "phone"},
    ("post", "payment_intents"): {
        "amount", "currency", "metadata", "description", "payment_method_types", "capture_method",
        "customer", "confirm", "payment_method", "receipt_email", "statement_descriptor",
    },
    ("post", "payment_intents/capture"): {"amount_to_capture", "metadata"},
    ("post", "payment_intents/cancel"): {"cancellation_reason"},
    ("post", "terminal/readers"): {"registration_code", "label", "location", "metadata"},
    ("post", "terminal/readers/process_payment_intent"): {"payment_intent", "process_config"},
    ("post", "terminal/readers/cancel_action"): set(),
    ("post", "test_helpers/terminal/readers/present_payment_method"): {
        "card_present", "type", "amount_tip", "interac_present",
    },
    ("post", "checkout/sessions"): {
        "mode", "line_items", "metadata", "payment_intent_data", "client_reference_id", "success_url",
        "cancel_url", "customer", "customer_email", "expires_at", "payment_method_types",
    },
    ("post", "checkout/sessions/expire"): set(),
    ("post", "refunds"): {"payment_intent", "charge", "amount", "reason", "metadata"},
    ("get", "list"): {"limit", "starting_after", "ending_before", "created"},
    ("get", "events"): {"types", "type", "delivery_success"},
    ("get", "refunds"): {"charge", "payment_intent"},
    ("get", "payment_intents"): {"customer"},
    ("get", "checkout/sessions"): {"customer", "payment_intent", "status"},
    ("get", "disputes"): {"charge", "payment_intent"},
    ("get", "terminal/readers"): {"location", "status", "device_type", "serial_number"},
}


class StripeFailure(Exception):
    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str = "",
        param: str = "",
        decline_code: str = "",
    ) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": {"type": type_, "message": message}}
        for key, value in (("code", code), ("param", param), ("decline_code", decline_code)):
            if value:
                self.body["error"][key] = value


@dataclass
class Fault:
    method: str
    path_prefix: str
    kind: str  # "status"/"card": an error, nothing done; "drop"/"delay": done, answer lost or slow
    status: int = 500
    seconds: float = 0.0
    remaining: int = 1


def _decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0][c]=x`` → nested dicts; dicts whose keys are all digits become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            fixed = {k: fix(v) for k, v in node.items()}
            if fixed and all(k.isdigit() for k in fixed):
                return [fixed[k] for k in sorted(fixed, key=int)]
            return fixed
        return node

    return fix(root)  # type: ignore[no-any-return]


class FakeStripe:
    """State and behaviour; ``url`` once started. Thread-safe through one lock."""

    def __init__(
        self,
        api_keys: tuple[str, ...] = ("sk_test_fake_4242", "rk_test_fake_9999"),
        *,
        account_version: str = "2024-12-18.acacia",
        clock_steps: tuple[int, ...] = CLOCK_STEPS,
    ) -> None:
        self.api_keys = set(api_keys)
        self.account_version = account_version
        self.strict_params = True
        self.raw_events: dict[str, str] = {}  # event id -> the JSON text served for it as it is
        self.forbidden: set[str] = set()  # path prefixes the key may not write (a restricted key)
        self.lock = threading.RLock()
        self.objects: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.idempotency: dict[str, tuple[str, str, int, str]] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, str]] = []  # (method, path, idempotency key)
        self._steps = itertools.cycle(clock_steps or (1,))
        self.now = 1_800_000_000
        self.types_supported = True
        self.max_page = 100
        self._server: ThreadingHTTPServer | None = None
        self.url = ""
        for reader_id, label in (("tmr_desk1", "Desk 1"), ("tmr_desk2", "Desk 2")):
            reader = self._new(
                "terminal.reader",
                id=reader_id,
                label=label,
                action=None,
                location="tml_venue",
                serial_number=f"WSC-{reader_id[-1]}",
            )
            reader["status"] = "online"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # headers and body leave in one write (no delayed-ACK stalls)
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._serve(self, "get")

            def do_POST(self) -> None:
                fake._serve(self, "post")

            def do_DELETE(self) -> None:
                fake._serve(self, "delete")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def add_fault(
        self,
        method: str,
        path_prefix: str,
        kind: str = "status",
        *,
        status: int = 500,
        seconds: float = 0.0,
        times: int = 1,
    ) -> None:
        with self.lock:
            self.faults.append(Fault(method, path_prefix, kind, status, seconds, times))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and path.startswith(fault.path_prefix) and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    # ------------------------------------------------------------------ HTTP plumbing

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        raw = body if method == "post" else split.query
        params = _decode_form(parse_qsl(raw, keep_blank_values=True))
        key = handler.headers.get("Idempotency-Key", "")
        with self.lock:
            self.requests.append((method, split.path, key))
        fault = self._take_fault(method, split.path)
        if fault is not None and fault.kind == "card":
            err = StripeFailure(
                402,
                "card_error",
                "Your card has insufficient funds.",
                code="card_declined",
                decline_code="insufficient_funds",
            )
            self._reply(handler, err.status, json.dumps(err.body), {})
            return
        if fault is not None and fault.kind == "html":
            page = b"<html><body><h1>Service temporarily unavailable</h1></body></html>"
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.send_header("Content-Length", str(len(page)))
            handler.end_headers()
            handler.wfile.write(page)
            return
        if fault is not None and fault.kind == "status":
            kind = "rate_limit_error" if fault.status == 429 else "api_error"
            message = "Too many requests" if fault.status == 429 else "An unknown error occurred"
            if fault.status == 429:
                err = StripeFailure(429, "invalid_request_error", message, code="rate_limit")
            else:
                err = StripeFailure(fault.status, kind, message)
            text = json.dumps(err.body)
            if method == "post" and key and fault.status >= 500:
                # Stripe saves a 5xx under the idempotency key and replays it for 24 hours.
                with self.lock:
                    self.idempotency.setdefault(
                        key, (self._fingerprint(method, split.path, params), split.path, err.status, text))
            self._reply(handler, err.status, text, {})
            return
        status, text, headers = self._dispatch(method, split.path, params, key, handler)
        if fault is not None and fault.kind == "drop":
            handler.close_connection = True
            handler.wfile.flush()
            return  # the work was done, the answer is lost
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        try:
            self._reply(handler, status, text, headers)
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, text: str, headers: dict[str, str]) -> None:
        data = text.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", "req_" + secrets.token_hex(7))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _dispatch(
        self, method: str, path: str, params: dict[str, Any], key: str, handler: BaseHTTPRequestHandler
    ) -> tuple[int, str, dict[str, str]]:
        auth = handler.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token not in self.api_keys:
            shown = token[:8] + "*" * 8 + token[-4:] if len(token) > 12 else "****"
            err = StripeFailure(401, "invalid_request_error", f"Invalid API Key provided: {shown}")
            return err.status, json.dumps(err.body), {}
        fingerprint = self._fingerprint(method, path, params)
        with self.lock:
            if method == "post" and key:
                seen = self.idempotency.get(key)
                if seen is not None:
                    if seen[0] != fingerprint:
                        err = StripeFailure(
                            400,
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same parameters "
                            "they were first used with.",
                        )
                        return err.status, json.dumps(err.body), {}
                    return seen[2], seen[3], {"Idempotent-Replayed": "true"}
            try:  # refused before the endpoint runs: nothing is saved under the key
                self._check_params(method, path, params)
                if method == "post" and any(path.startswith(f) for f in self.forbidden):
                    raise StripeFailure(
                        403, "invalid_request_error",
                        f"The provided key '{token[:8]}***' does not have the required permissions for "
                        "this endpoint on account 'acct_fake'.")
            except StripeFailure as exc:
                return exc.status, json.dumps(exc.body), {}
            try:
                status, text = 200, self._encode(self._route(method, path, params))
            except StripeFailure as exc:
                status, text = exc.status, json.dumps(exc.body)
            if method == "post" and key:
                self.idempotency[key] = (fingerprint, path, status, text)
        return status, text, {}

    @staticmethod
    def _fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
        return json.dumps([method, path, params], sort_keys=True)

    def _check_params(self, method: str, path: str, params: dict[str, Any]) -> None:
        """Stripe's answer to a parameter the endpoint does not take."""
        if not self.strict_params:
            return
        parts = [p for p in path.strip("/").split("/")[1:] if p]
        if not parts:
            return
        ids = [i for i, p in enumerate(parts) if OBJECT_ID.match(p)]
        shape = "/".join(p for i, p in enumerate(parts) if i not in ids)
        if method == "get":
            if ids:
                allowed = COMMON_PARAMS
            else:
                allowed = COMMON_PARAMS | ALLOWED_PARAMS[("get", "list")] | ALLOWED_PARAMS.get(("get", shape), set())
        else:
            allowed = COMMON_PARAMS | ALLOWED_PARAMS.get((method, shape), set(params))
        for name in params:
            if name not in allowed:
                raise StripeFailure(400, "invalid_request_error", f"Received unknown parameter: {name}",
                                    param=name)

    def _encode(self, body: dict[str, Any]) -> str:
        """JSON of ``body``; events stored as raw text (``emit_raw``) are served exactly as given."""
        if not self.raw_events or body.get("object") != "list":
            return json.dumps(body)
        marks: dict[str, str] = {}
        data = []
        for item in body.get("data") or []:
            if isinstance(item, dict) and item.get("id") in self.raw_events:
                mark = f"@@raw-{len(marks)}@@"
                marks[f'"{mark}"'] = self.raw_events[item["id"]]
                data.append(mark)
            else:
                data.append(item)
        text = json.dumps({**body, "data": data})
        for mark, raw in marks.items():
            text = text.replace(mark, raw)
        return text

    # ------------------------------------------------------------------ objects and events

    def _tick(self) -> int:
        self.now += next(self._steps)
        return self.now

    def advance(self, seconds: int) -> int:
        """Move Stripe's clock on (days pass between polls)."""
        with self.lock:
            self.now += seconds
            return self.now

    def version_before(self, version: str) -> bool:
        return self.account_version[:10] < version

    def _new(self, kind: str, **fields: Any) -> dict[str, Any]:
        obj = copy.deepcopy(FIXTURES[kind])
        prefix = {
            "payment_intent": "pi",
            "charge": "ch",
            "refund": "re",
            "dispute": "dp",
            "checkout.session": "cs_test",
            "terminal.reader": "tmr",
            "customer": "cus",
            "event": "evt",
        }[kind]
        obj["id"] = f"{prefix}_{secrets.token_hex(12)}"
        if "created" in obj:
            obj["created"] = self._tick()
        obj["livemode"] = False
        if "metadata" in obj:
            obj["metadata"] = {}
        obj.update(fields)
        self.objects[obj["id"]] = obj
        return obj

    def emit(self, type_: str, obj: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
        """Record an event with a snapshot of ``obj`` (tests may call it to inject any event)."""
        with self.lock:
            event = copy.deepcopy(FIXTURES["event"])
            event.update(
                id=f"evt_{secrets.token_hex(12)}",
                type=type_,
                livemode=False,
                created=created if created is not None else self._tick(),
                api_version=self.account_version,
                pending_webhooks=0,
                request={"id": None, "idempotency_key": None},
                data={"object": copy.deepcopy(obj)},
            )
            self.events.append(event)
            return event

    def emit_raw(self, event_id: str, text: str, *, created: int | None = None,
                 type_: str = "payment_intent.succeeded") -> None:
        """Serve ``text`` as it is for one event in the list (a body Stripe should never send)."""
        with self.lock:
            self.events.append({"id": event_id, "type": type_,
                                "created": created if created is not None else self._tick()})
            self.raw_events[event_id] = text

    def _charge_snapshot(self, charge: dict[str, Any]) -> dict[str, Any]:
        """A charge as the account's API version shows it: ``refunds`` only before 2022-11-15."""
        out = copy.deepcopy(charge)
        if not self.version_before(REFUNDS_LIST_UNTIL):
            out.pop("refunds", None)
        return out

    def get(self, object_id: str) -> dict[str, Any]:
        try:
            return self.objects[object_id]
        except KeyError:
            raise StripeFailure(
                404,
                "invalid_request_error",
                f"No such object: '{object_id}'",
                code="resource_missing",
                param="id",
            ) from None

    def count(self, kind: str) -> int:
        return sum(1 for o in self.objects.values() if o.get("object") == kind)

    # ------------------------------------------------------------------ routing

    def _route(self, method: str, path: str, p: dict[str, Any]) -> dict[str, Any]:
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        if parts[:1] == ["events"] and method == "get":
            return self._list_events(p) if len(parts) == 1 else self.get(parts[1])
        if parts[:1] == ["customers"]:
            if method == "post" and len(parts) == 1:
                return self._new(
                    "customer", email=p.get("email"), name=p.get("name"), metadata=p.get("metadata") or {}
                )
            return self.get(parts[1])
        if parts[:1] == ["payment_intents"]:
            return self._payment_intents(method, parts[1:], p)
        if parts[:2] == ["terminal", "readers"]:
            return self._readers(method, parts[2:], p)
        if parts[:3] == ["test_helpers", "terminal", "readers"] and parts[-1:] == ["present_payment_method"]:
            return self.present_payment_method(parts[3], number=(p.get("card_present") or {}).get("number"))
        if parts[:2] == ["checkout", "sessions"]:
            return self._sessions(method, parts[2:], p)
        if parts[:1] == ["refunds"]:
            if method == "post" and len(parts) == 1:
                return self._create_refund(p)
            if method == "get" and len(parts) == 1:
                return self._list("refund", p, "/v1/refunds", ("charge", "payment_intent"))
            return self.get(parts[1])
        if parts[:1] == ["disputes"] and method == "get":
            if len(parts) == 1:
                return self._list("dispute", p, "/v1/disputes", ("charge", "payment_intent"))
            return self.get(parts[1])
        if parts[:1] == ["charges"] and method == "get" and len(parts) == 2:
            return self._charge_snapshot(self.get(parts[1]))
        raise StripeFailure(
            404, "invalid_request_error", f"Unrecognized request URL ({method.upper()}: {path})"
        )

    def _expand(self, obj: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        for field in p.get("expand") or []:
            if isinstance(out.get(field), str) and out[field] in self.objects:
                inner = self.objects[out[field]]
                out[field] = self._charge_snapshot(inner) if inner.get("object") == "charge" else copy.deepcopy(inner)
        return out

    # PaymentIntents ------------------------------------------------------------

    def _list(self, kind: str, p: dict[str, Any], url: str, filters: tuple[str, ...]) -> dict[str, Any]:
        items = [o for o in self.objects.values() if o.get("object") == kind]
        for name in filters:
            if p.get(name):
                items = [o for o in items if o.get(name) == p[name]]
        created = p.get("created")
        if isinstance(created, dict) and created.get("gte") is not None:
            items = [o for o in items if o.get("created", 0) >= int(created["gte"])]
        order = {oid: n for n, oid in enumerate(self.objects)}
        items.sort(key=lambda o: (o.get("created", 0), order[o["id"]]), reverse=True)
        return self._page(items, p, url)

    def _payment_intents(self, method: str, rest: list[str], p: dict[str, Any]) -> dict[str, Any]:
        if method == "get" and not rest:
            return self._list("payment_intent", p, "/v1/payment_intents", ("customer",))
        if method == "post" and not rest:
            try:
                amount = int(p["amount"])
                currency = p["currency"]
            except (KeyError, ValueError):
                raise StripeFailure(
                    400, "invalid_request_error", "Missing required param: amount.", param="amount"
                ) from None
            if amount < 1:
                raise StripeFailure(400, "invalid_request_error", "Amount must be at least 1", param="amount")
            intent = self._new(
                "payment_intent",
                amount=amount,
                currency=currency,
                status="requires_payment_method",
                capture_method=p.get("capture_method", "automatic_async"),
                metadata=p.get("metadata") or {},
                description=p.get("description"),
                customer=p.get("customer"),
                payment_method_types=p.get("payment_method_types") or ["card"],
                latest_charge=None,
                amount_capturable=0,
                amount_received=0,
                last_payment_error=None,
                canceled_at=None,
                cancellation_reason=None,
                next_action=None,
                payment_method=None,
                processing=None,
            )
            intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(8)}"
            self.emit("payment_intent.created", intent)
            return intent
        intent = self.get(rest[0])
        action = rest[1] if len(rest) > 1 else ""
        if method == "get" and not action:
            return self._expand(intent, p)
        if action == "capture":
            if intent["status"] != "requires_capture":
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    "This PaymentIntent could not be captured because it has a status of "
                    f"{intent['status']}. Only a PaymentIntent with one of the following "
                    "statuses may be captured: requires_capture.",
                    code="payment_intent_unexpected_state",
                )
            charge = self.objects[intent["latest_charge"]]
            charge.update(captured=True, amount_captured=charge["amount"], status="succeeded")
            intent.update(status="succeeded", amount_received=intent["amount"], amount_capturable=0)
            self.emit("charge.captured", charge)
            self.emit("payment_intent.succeeded", intent)
            return self._expand(intent, p)
        if action == "cancel":
            if intent["status"] in ("succeeded", "canceled"):
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}.",
                    code="payment_intent_unexpected_state",
                )
            intent.update(
                status="canceled",
                canceled_at=self._tick(),
                cancellation_reason=p.get("cancellation_reason") or "requested_by_customer",
            )
            self.emit("payment_intent.canceled", intent)
            return intent
        raise StripeFailure(404, "invalid_request_error", "Unrecognized request URL")

    def _new_charge(
        self,
        intent: dict[str, Any],
        *,
        captured: bool,
        brand: str = "visa",
        last4: str = "4242",
        card_present: bool = True,
    ) -> dict[str, Any]:
        charge = self._new("charge")
        details = copy.deepcopy(charge.get("payment_method_details") or {})
        card = {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2030, "funding": "credit"}
        details = {
            "type": "card_present" if card_present else "card",
            ("card_present" if card_present else "card"): card,
        }
        charge.update(
            amount=intent["amount"],
            amount_captured=intent["amount"] if captured else 0,
            amount_refunded=0,
            captured=captured,
            currency=intent["currency"],
            paid=True,
            status="succeeded",
            refunded=False,
            payment_intent=intent["id"],
            metadata=dict(intent.get("metadata") or {}),
            payment_method_details=details,
            customer=intent.get("customer"),
            receipt_url=f"https://pay.stripe.com/receipts/{charge['id']}",
            disputed=False,
            refunds={
                "object": "list",
                "data": [],
                "has_more": False,
                "url": f"/v1/charges/{charge['id']}/refunds",
            },
        )
        intent["latest_charge"] = charge["id"]
        return charge

    # Terminal -------------------------------------------------------------------

    def _readers(self, method: str, rest: list[str], p: dict[str, Any]) -> dict[str, Any]:
        if method == "get" and not rest:
            readers = [o for o in self.objects.values() if o.get("object") == "terminal.reader"]
            if p.get("location"):
                readers = [r for r in readers if r.get("location") == p["location"]]
            return self._page(readers, p, "/v1/terminal/readers")
        if method == "post" and not rest:
            if p.get("registration_code") in (None, "", "invalid"):
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    "The registration code is invalid or has expired.",
                    code="terminal_reader_invalid_registration_code",
                )
            reader = self._new(
                "terminal.reader",
                label=p.get("label", ""),
                location=p.get("location"),
                action=None,
                serial_number=f"WSC-{secrets.token_hex(3)}",
            )
            reader["status"] = "online"
            return reader
        reader = self.get(rest[0])
        action = rest[1] if len(rest) > 1 else ""
        if method == "get" and not action:
            return reader
        if action == "process_payment_intent":
            intent = self.get(p.get("payment_intent", ""))
            if reader.get("action") and reader["action"].get("status") == "in_progress":
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    "Reader is currently busy processing another request.",
                    code="terminal_reader_busy",
                )
            if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    f"PaymentIntent has a status of {intent['status']}.",
                    code="payment_intent_unexpected_state",
                )
            reader["action"] = {
                "type": "process_payment_intent",
                "status": "in_progress",
                "failure_code": None,
                "failure_message": None,
                "process_payment_intent": {"payment_intent": intent["id"]},
            }
            return reader
        if action == "cancel_action":
            if not reader.get("action") or reader["action"].get("status") != "in_progress":
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    "Reader has no in-progress action to cancel.",
                    code="terminal_reader_action_unexpected_state",
                )
            reader["action"] = None
            return reader
        raise StripeFailure(404, "invalid_request_error", "Unrecognized request URL")

    def present_payment_method(self, reader_id: str, *, number: str | None = None) -> dict[str, Any]:
        """Stripe's test helper: the customer taps a card on the reader."""
        with self.lock:
            reader = self.get(reader_id)
            action = reader.get("action") or {}
            if action.get("status") != "in_progress":
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    "Reader has no in-progress action.",
                    code="terminal_reader_action_unexpected_state",
                )
            intent = self.objects[action["process_payment_intent"]["payment_intent"]]
            if number == DECLINE_NUMBER:
                message = "Your card was declined."
                intent.update(
                    status="requires_payment_method",
                    last_payment_error={
                        "code": "card_declined",
                        "decline_code": "generic_decline",
                        "message": message,
                        "type": "card_error",
                    },
                )
                action.update(status="failed", failure_code="card_declined", failure_message=message)
                self.emit("payment_intent.payment_failed", intent)
                self.emit("terminal.reader.action_failed", reader)
            else:
                self._new_charge(intent, captured=False)
                intent.update(
                    status="requires_capture", amount_capturable=intent["amount"], last_payment_error=None
                )
                action.update(status="succeeded")
                self.emit("payment_intent.amount_capturable_updated", intent)
                self.emit("terminal.reader.action_succeeded", reader)
            return copy.deepcopy(reader)

    # Checkout Sessions -------------------------------------------------------------

    def _sessions(self, method: str, rest: list[str], p: dict[str, Any]) -> dict[str, Any]:
        if method == "get" and not rest:
            return self._list("checkout.session", p, "/v1/checkout/sessions", ("payment_intent", "customer"))
        if method == "post" and not rest:
            items = p.get("line_items") or []
            if not items:
                raise StripeFailure(
                    400, "invalid_request_error", "Missing required param: line_items.", param="line_items"
                )
            total = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1)) for i in items)
            currency = items[0]["price_data"]["currency"]
            session = self._new(
                "checkout.session",
                mode="payment",
                status="open",
                payment_status="unpaid",
                amount_total=total,
                amount_subtotal=total,
                currency=currency,
                payment_intent=None,
                metadata=p.get("metadata") or {},
                client_reference_id=p.get("client_reference_id"),
                success_url=p.get("success_url"),
                cancel_url=p.get("cancel_url"),
                customer=p.get("customer"),
            )
            session["expires_at"] = session["created"] + 86400
            session["url"] = f"https://checkout.stripe.com/c/pay/{session['id']}"
            session["_pi_metadata"] = (p.get("payment_intent_data") or {}).get("metadata") or {}
            return self._public(session)
        session = self.get(rest[0])
        action = rest[1] if len(rest) > 1 else ""
        if method == "get" and not action:
            return self._public(session)
        if action == "expire":
            if session["status"] != "open":
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    f"Only Checkout Sessions with a status of open can be expired. This "
                    f"Checkout Session has a status of {session['status']}.",
                    code="checkout_session_unexpected_state",
                )
            self._expire(session)
            return self._public(session)
        raise StripeFailure(404, "invalid_request_error", "Unrecognized request URL")

    @staticmethod
    def _public(session: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in session.items() if not k.startswith("_")}

    def _expire(self, session: dict[str, Any]) -> None:
        session.update(status="expired", url=None)
        self.emit("checkout.session.expired", self._public(session))

    def expire_session(self, session_id: str) -> None:
        with self.lock:
            self._expire(self.get(session_id))

    def pay_session(self, session_id: str, *, delayed: bool = False) -> dict[str, Any]:
        """The customer pays on their phone; ``delayed`` plays an async method (e.g. a bank debit)."""
        with self.lock:
            session = self.get(session_id)
            intent = self._new(
                "payment_intent",
                amount=session["amount_total"],
                currency=session["currency"],
                metadata=dict(session["_pi_metadata"]),
                capture_method="automatic_async",
                status="processing" if delayed else "succeeded",
                latest_charge=None,
                customer=session.get("customer"),
                last_payment_error=None,
            )
            intent["amount_received"] = 0 if delayed else intent["amount"]
            session["payment_intent"] = intent["id"]
            session["status"] = "complete"
            if not delayed:
                charge = self._new_charge(
                    intent, captured=True, card_present=False, brand="mastercard", last4="4444"
                )
                session["payment_status"] = "paid"
                self.emit("charge.succeeded", charge)
                self.emit("payment_intent.succeeded", intent)
            self.emit("checkout.session.completed", self._public(session))
            return self._public(session)

    def settle_async(self, session_id: str, *, succeeded: bool) -> None:
        with self.lock:
            session = self.get(session_id)
            intent = self.objects[session["payment_intent"]]
            if succeeded:
                self._new_charge(intent, captured=True, card_present=False)
                intent.update(status="succeeded", amount_received=intent["amount"])
                session["payment_status"] = "paid"
                self.emit("payment_intent.succeeded", intent)
                self.emit("checkout.session.async_payment_succeeded", self._public(session))
            else:
                intent.update(
                    status="requires_payment_method",
                    last_payment_error={"message": "The bank debit failed.", "type": "card_error"},
                )
                self.emit("payment_intent.payment_failed", intent)
                self.emit("checkout.session.async_payment_failed", self._public(session))

    # Refunds and disputes ---------------------------------------------------------------

    def _create_refund(self, p: dict[str, Any], *, status: str = "succeeded") -> dict[str, Any]:
        if p.get("payment_intent"):
            intent = self.get(p["payment_intent"])
            if not intent.get("latest_charge") or intent["status"] != "succeeded":
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                    code="charge_not_refundable",
                )
            charge = self.objects[intent["latest_charge"]]
        elif p.get("charge"):
            charge = self.get(p["charge"])
        else:
            raise StripeFailure(
                400,
                "invalid_request_error",
                "One of the following params should be provided for this request: payment_intent or charge.",
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = int(p.get("amount", remaining))
        if remaining <= 0:
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount > remaining:
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                code="amount_too_large",
                param="amount",
            )
        refund = self._new(
            "refund",
            amount=amount,
            charge=charge["id"],
            currency=charge["currency"],
            payment_intent=charge.get("payment_intent"),
            reason=p.get("reason"),
            status=status,
            metadata=p.get("metadata") or {},
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
        charge["refunds"]["total_count"] = len(charge["refunds"]["data"])
        if not self.version_before(REFUND_EVENTS_SINCE):
            self.emit("refund.created", refund)
        self.emit("charge.refunded", self._charge_snapshot(charge))
        return refund

    def refund_outside(self, intent_id: str, amount: int, *, status: str = "succeeded") -> dict[str, Any]:
        """A refund made in the Stripe dashboard, not by Box Office (``pending`` until ``settle_refund``)."""
        with self.lock:
            return self._create_refund({"payment_intent": intent_id, "amount": amount}, status=status)

    def _refund_changed(self, refund: dict[str, Any], charge: dict[str, Any]) -> None:
        """The charge's own copy of the refund follows it, and the change is an event."""
        listed = charge["refunds"]["data"]
        charge["refunds"]["data"] = [copy.deepcopy(refund) if r["id"] == refund["id"] else r for r in listed]
        if not self.version_before(REFUND_EVENTS_SINCE):
            self.emit("refund.failed" if refund["status"] == "failed" else "refund.updated", refund)
        else:
            self.emit("charge.refund.updated", refund)

    def fail_refund(self, refund_id: str) -> None:
        with self.lock:
            refund = self.get(refund_id)
            refund.update(status="failed", failure_reason="expired_or_canceled_card")
            charge = self.objects[refund["charge"]]
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            self._refund_changed(refund, charge)

    def settle_refund(self, refund_id: str) -> None:
        """A pending refund goes through (the card network took it)."""
        with self.lock:
            refund = self.get(refund_id)
            refund["status"] = "succeeded"
            self._refund_changed(refund, self.objects[refund["charge"]])

    def lapse_authorization(self, intent_id: str) -> None:
        """An authorised card payment nobody captured: Stripe cancels it when the authorisation lapses."""
        with self.lock:
            intent = self.get(intent_id)
            intent.update(status="canceled", canceled_at=self._tick(), cancellation_reason="automatic",
                          amount_capturable=0)
            self.emit("payment_intent.canceled", intent)

    def open_dispute(self, charge_id: str) -> dict[str, Any]:
        with self.lock:
            charge = self.get(charge_id)
            dispute = self._new(
                "dispute",
                charge=charge_id,
                amount=charge["amount"],
                currency=charge["currency"],
                payment_intent=charge.get("payment_intent"),
                reason="fraudulent",
                status="needs_response",
            )
            charge["disputed"] = True
            self.emit("charge.dispute.created", dispute)
            return dispute

    def close_dispute(self, dispute_id: str, status: str = "won") -> None:
        with self.lock:
            dispute = self.get(dispute_id)
            dispute["status"] = status
            self.emit("charge.dispute.closed", dispute)

    # Lists ---------------------------------------------------------------------------------

    def _page(self, items: list[dict[str, Any]], p: dict[str, Any], url: str) -> dict[str, Any]:
        try:
            limit = int(p.get("limit", 10))
        except ValueError:
            raise StripeFailure(
                400, "invalid_request_error", "Invalid integer: limit", param="limit"
            ) from None
        if not 1 <= limit <= self.max_page:
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"This value must be less than or equal to {self.max_page}.",
                param="limit",
            )
        start = 0
        after = p.get("starting_after")
        if after:
            ids = [i["id"] for i in items]
            if after not in ids:
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    f"No such object: '{after}'",
                    param="starting_after",
                    code="resource_missing",
                )
            start = ids.index(after) + 1
        chunk = items[start : start + limit]
        return {
            "object": "list",
            "url": url,
            "has_more": start + limit < len(items),
            "data": [
                self._public(i) if i.get("object") == "checkout.session" else copy.deepcopy(i) for i in chunk
            ],
        }

    def _list_events(self, p: dict[str, Any]) -> dict[str, Any]:
        if "types" in p and not self.types_supported:
            raise StripeFailure(
                400, "invalid_request_error", "Received unknown parameter: types", param="types"
            )
        events = self.events
        created = p.get("created")
        if isinstance(created, dict) and created.get("gte") is not None:
            gte = int(created["gte"])
            events = [e for e in events if e["created"] >= gte]
        if p.get("types"):
            wanted = set(p["types"])
            events = [e for e in events if e["type"] in wanted]
        # Stripe lists newest first: by creation, and within one second the later event first.
        index = {id(e): n for n, e in enumerate(self.events)}
        ordered = sorted(events, key=lambda e: (e["created"], index[id(e)]), reverse=True)
        return self._page(ordered, p, "/v1/events")
