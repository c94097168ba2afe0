"""What the subcommands share: declaring a command and its actions, the usual arguments, and the
one way a command reports a refusal (``lapor-triage CMD: error: ...`` on stderr, exit code 2)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    *,
    help: str,
    description: str,
    func: Callable[[argparse.Namespace], int] | None = None,
) -> argparse.ArgumentParser:
    """A subcommand's parser; ``func`` (when given) is what ``lapor-triage NAME`` runs."""
    parser = subparsers.add_parser(name, help=help, description=description)
    if func is not None:
        parser.set_defaults(func=func)
    return parser


def add_actions(parser: argparse.ArgumentParser, dest: str) -> argparse._SubParsersAction:
    """The required ACTION of a command made of actions (``keys create``, ``db upgrade``)."""
    return parser.add_subparsers(dest=dest, metavar="ACTION", required=True)


def add_model_argument(parser: argparse.ArgumentParser, help: str = "saved model folder") -> None:
    """``--model FOLDER``, required: a model saved by ``lapor-triage train``."""
    parser.add_argument("--model", required=True, type=Path, help=help)


def fail(command: str, problem: Any) -> int:
    """Say why ``lapor-triage COMMAND`` refuses, on stderr; the exit code 2."""
    print(f"lapor-triage {command}: error: {problem}", file=sys.stderr)
    return 2
