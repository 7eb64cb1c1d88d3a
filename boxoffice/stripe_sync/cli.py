"""``boxoffice sync [--once]``: catch up with Stripe's events headless and print a one-line JSON summary."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import TYPE_CHECKING

from boxoffice.cli.common import open_migrated
from boxoffice.cli.registry import command
from boxoffice.config import load_settings
from boxoffice.services.context import ServiceContext

if TYPE_CHECKING:
    from boxoffice.stripe_sync.poller import SyncReport

log = logging.getLogger(__name__)

UNREACHABLE_EXIT = 2


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="one catch-up, then exit (default: keep polling)")
    parser.add_argument(
        "--interval",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds between polls when not --once (default 30)",
    )
    parser.add_argument(
        "--conference",
        metavar="SLUG",
        default=None,
        help="use the keychain entry of this conference (default: the desk's key)",
    )


def _summary(report: SyncReport) -> str:
    data: dict[str, object] = dict(report.as_dict())
    if not report.online:
        data["error"] = report.message
    if report.warning:
        data["warning"] = report.warning
    return json.dumps(data, separators=(", ", ": "))


@command(
    "sync",
    help="catch up with Stripe's events (BOXOFFICE_STRIPE_SECRET_KEY, BOXOFFICE_STRIPE_API_BASE)",
    configure=_configure,
)
def sync_command(args: argparse.Namespace) -> int:
    # Imported here: building the command line (every start of the desk) must not load the Stripe SDK.
    from boxoffice.stripe_sync.gateway import StripeGateway
    from boxoffice.stripe_sync.poller import Poller

    settings = load_settings().settings
    gateway = StripeGateway.from_environment(
        conference_slug=args.conference, settings_api_base=settings.stripe_api_base
    )
    db = open_migrated(args)
    try:
        poller = Poller(ServiceContext(db=db, desk_name=settings.desk_name), gateway)
        while True:
            report = poller.poll_once()
            print(_summary(report), flush=True)
            if args.once:
                return 0 if report.online else UNREACHABLE_EXIT
            time.sleep(max(args.interval, 1.0))
    except KeyboardInterrupt:
        return 0
    finally:
        db.dispose()


def _configure_stripe(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    tap = actions.add_parser(
        "simulate-tap", help="present a test card to a simulated reader (Stripe test mode only)"
    )
    tap.add_argument("reader", metavar="READER", help="the simulated reader's id (tmr_...)")
    tap.add_argument(
        "--card", default="", metavar="NUMBER",
        help="a Stripe test card number (default: a card that is approved; 4000000000000002 declines)",
    )
    tap.add_argument("--conference", metavar="SLUG", default=None, help="use this conference's key")


@command(
    "stripe",
    help="Stripe test-mode helpers: simulate-tap READER (BOXOFFICE_STRIPE_SECRET_KEY, a test key)",
    configure=_configure_stripe,
)
def stripe_command(args: argparse.Namespace) -> int:
    from boxoffice.errors import UserError
    from boxoffice.stripe_sync.gateway import StripeGateway

    settings = load_settings().settings
    try:
        gateway = StripeGateway.from_environment(
            conference_slug=args.conference, settings_api_base=settings.stripe_api_base
        )
        reader = gateway.simulate_tap(args.reader, card_number=args.card)
    except UserError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(json.dumps({"reader": reader.id, "action": reader.action_type, "status": reader.action_status,
                      "payment_intent": reader.action_payment_intent,
                      "failure": reader.action_failure_message}))
    return 0
