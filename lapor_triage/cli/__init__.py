"""The ``lapor-triage`` command line: one entry point, one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from lapor_triage import __version__

# Each module defines ``register(subparsers)``; the parser it adds sets ``func(args) -> int``.
SUBCOMMANDS = [
    "train",
    "predict",
    "evaluate",
    "monev",
    "promote",
    "models_cmd",
    "serve",
    "keys",
    "db",
    "annotate",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lapor-triage",
        description="Machine learning for SP4N-LAPOR!: report type, agency routing, reply quality.",
    )
    parser.add_argument("--version", action="version", version=f"lapor-triage {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"lapor_triage.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from lapor_triage.models.base import ModelFormatError
    from lapor_triage.records import DataError
    from lapor_triage.training.tracking import TrackingError

    try:
        return int(args.func(args) or 0)
    except (DataError, ModelFormatError, FileNotFoundError, TrackingError) as exc:
        print(f"lapor-triage {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
