"""``boxoffice checkin CODE --desk NAME``: admit one attendee headless and print the result as JSON."""

from __future__ import annotations

import argparse
import json

from boxoffice.cli.common import acting_operator, open_migrated, operator_option
from boxoffice.cli.registry import command
from boxoffice.config import load_settings
from boxoffice.db.engine import Database
from boxoffice.errors import NotFound
from boxoffice.services.context import ServiceContext


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", metavar="CODE",
                        help="an access code, an order reference or the QR payload of a badge or receipt")
    parser.add_argument("--desk", metavar="NAME", default=None,
                        help="the desk recorded on the check-in (default: this desk's name in the settings)")
    parser.add_argument("--conference", metavar="SLUG", default=None,
                        help="the conference at this door (default: the desk's conference, or the only one)")
    parser.add_argument("--again", action="store_true", help="admit again someone already checked in (re-entry)")
    parser.add_argument("--confirm", action="store_true", help="the attendee's note was read: admit anyway")
    operator_option(parser)


def conference_id(db: Database, slug: str | None, default: int | None) -> int:
    """The conference named by slug, else the desk's, else the only one in the database."""
    from boxoffice.services.sales.conferences import ConferenceService

    conferences = ConferenceService(ServiceContext(db=db)).list()
    if slug:
        for conference in conferences:
            if conference.slug == slug:
                return conference.id
        raise NotFound(f"No conference has the slug '{slug}'. Known: {', '.join(c.slug for c in conferences)}.")
    if default is not None and any(c.id == default for c in conferences):
        return default
    if len(conferences) == 1:
        return conferences[0].id
    raise NotFound("Name the conference at this door with --conference SLUG."
                   if conferences else "The database has no conference. Import one first.")


@command("checkin", help="check one attendee in by code, reference or QR payload; prints one line of JSON "
                         "(exit 0 admitted or already in, 1 refused)", configure=_configure)
def checkin_command(args: argparse.Namespace) -> int:
    from boxoffice.services.checkin.admission import CheckInService

    settings = load_settings().settings
    db = open_migrated(args)
    try:
        ctx = ServiceContext(db=db, desk_name=(args.desk or settings.desk_name).strip() or settings.desk_name)
        conference = conference_id(db, args.conference, settings.conference_id)
        with acting_operator(args, ctx):
            result = CheckInService(ctx).scan(conference, args.code, admit_again=args.again,
                                              confirm_attention=args.confirm)
    finally:
        db.dispose()
    attendee = result.attendee
    print(json.dumps({
        "result": result.outcome,
        "attendee": attendee.name if attendee else None,
        "ticket_type": attendee.ticket_type if attendee else None,
        "checked_in_at": attendee.checked_in_at.isoformat() if attendee and attendee.checked_in_at else None,
        "desk": attendee.checked_in_desk or None if attendee else None,
        "by": attendee.checked_in_by or None if attendee else None,
        "access_code": attendee.access_code if attendee else None,
        "detail": " ".join(p for p in (result.headline + ".", result.detail, result.next_step) if p),
    }, ensure_ascii=False))
    return 0 if result.ok else 1
