"""`python -m devkit.ats VENDOR [--port N] [--seed FILE] [--rate-limit R]`: run one vendor emulator."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from core.vocabulary import Vendor
from devkit.ats.runner import run_emulator


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the emulator until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m devkit.ats", description=__doc__)
    parser.add_argument("vendor", choices=[v.value for v in Vendor])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--seed", type=Path, help="JSON seed file (default: the packaged demo seed)")
    parser.add_argument("--rate-limit", type=int, help="requests allowed per the vendor's rate window")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    run_emulator(args.vendor, args.port, args.seed, args.rate_limit, host=args.host)


if __name__ == "__main__":
    main()
