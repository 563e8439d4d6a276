"""`scaleup bench NAME [options]`: run one benchmark of devkit/bench/ (the same as `python -m devkit.bench.NAME`)."""

from __future__ import annotations

import argparse
import importlib

from bot.cli import CommandError

BENCHMARKS = {
    "export_throughput": "exports at the speed the ATS's rate limit allows (1 and 3 workers)",
    "pass_cost": "one pass's selection and claim as the database grows (10k → 1M candidates)",
    "memory": "peak RSS of `scaleup worker --once` and `scaleup import candidates`",
    "ack_latency": "Slack acknowledgement latency of `scaleup serve` against a bare Bolt app",
    "reply_to_ats": "from an ingested interested reply to the record in the ATS",
    "import_speed": "rows/s of `scaleup import candidates` (100k, 1M rows) against COPY / executemany",
    "ats_to_slack": "from a stage change in the ATS to the API and the Slack answer (webhooks, then polls)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `bench` command."""
    parser = subparsers.add_parser(
        "bench",
        help="run a benchmark (see devkit/bench/README.md)",
        description="Run one benchmark; it prints its figures and, last, its headline ratio. "
        + "; ".join(f"{name}: {what}" for name, what in BENCHMARKS.items())
        + ". Options after NAME go to the benchmark (e.g. --quick).",
    )
    parser.add_argument("name", choices=sorted(BENCHMARKS), metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("options", nargs=argparse.REMAINDER, help="the benchmark's own options")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark's `main` with the remaining options."""
    try:
        module = importlib.import_module(f"devkit.bench.{args.name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"devkit.bench.{args.name}":
            raise
        raise CommandError(f"the {args.name} benchmark is not written yet") from None
    return int(module.main(list(args.options)) or 0)
