"""`scaleup history --candidate ID`: what happened to a candidate's exports, as `/scaleup history` shows it."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.markup import escape

from ats.registry import spec_of
from bot.api.schemas import HistoryOut
from bot.cli import CommandError
from bot.cli.teams import add_team_option, workspace_services
from exports.history import CandidateHistory, candidate_history, find_candidates
from storage.db import unit_of_work


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `history` command."""
    parser = subparsers.add_parser(
        "history",
        help="show every state change of a candidate's exports",
        description="Every state change of a candidate's exports, link by link: when, why and by whom or "
        "what, with the ATS record each created or found.",
    )
    parser.add_argument(
        "--candidate",
        required=True,
        metavar="ID",
        help="the candidate's id in ScaleUp (source id), an email address, a LinkedIn URL or part of the name",
    )
    add_team_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON (the ingest API's answer) instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the candidate's history; exit 2 when nobody, or several people, match."""
    with workspace_services(args.team) as (services, team), unit_of_work(services.read_sessions) as session:
        matches = find_candidates(session, team, args.candidate)
        if not matches:
            raise CommandError(f"no candidate of {team} matches {args.candidate!r}.")
        if len(matches) > 1:
            names = "; ".join(f"{name} (#{cid})" for cid, name in matches)
            raise CommandError(
                f"{len(matches)} candidates match {args.candidate!r}: {names}. Give their id, email or "
                "more of the name."
            )
        history = candidate_history(session, team, matches[0][0])
        assert history is not None  # just found, in this workspace
    if args.json:
        print(json.dumps(HistoryOut.of(history).model_dump(mode="json"), indent=2))
    else:
        render(history, Console())
    return 0


def render(history: CandidateHistory, console: Console) -> None:
    """Print the story link by link, every change on a line."""
    console.print(f"[bold]{escape(history.name)}[/bold] (id {escape(history.source_id or '—')})")
    if not history.links:
        console.print("No link has a record of them yet (not in a linked search, or not seen by a pass).")
    for link in history.links:
        ats = spec_of(link.vendor).label
        record = link.ats_profile_url or (
            f"record {link.ats_candidate_id}" if link.ats_candidate_id else "no record"
        )
        console.print(
            f"\n[bold]{escape(link.search)}[/bold] → {escape(link.job or 'no job')} ({ats}): "
            f"{link.state.label}, {escape(record)}"
        )
        for event in link.events:
            change = (
                event.to_state.label
                if event.from_state is None
                else f"{event.from_state.label} → {event.to_state.label}"
            )
            why = f": {event.reason}" if event.reason else ""
            why += f" (run {event.run_id})" if event.run_id else ""
            console.print(
                f"  {event.at:%Y-%m-%d %H:%M:%S} UTC  {change}, by {event.actor.words()}{escape(why)}",
                highlight=False,
            )
