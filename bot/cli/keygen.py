"""`scaleup keygen`: print a new key for SCALEUP_SECRET_KEY."""

from __future__ import annotations

import argparse

from storage.crypto import generate_key


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `keygen` command."""
    parser = subparsers.add_parser("keygen", help="print a new encryption key for SCALEUP_SECRET_KEY")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print a fresh Fernet key."""
    print(generate_key())
    return 0
