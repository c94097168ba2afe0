"""What a newcomer trips on at the command line (issue 9 part 3): clear refusals, never guesses."""

from __future__ import annotations

import sys

import pytest

from lapor_triage.cli import build_parser


def test_a_broken_subcommand_module_is_an_error_not_a_missing_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An ImportError of our own CLI module must surface, not drop the subcommand silently."""
    monkeypatch.delitem(sys.modules, "lapor_triage.cli.keys", raising=False)
    monkeypatch.setitem(sys.modules, "lapor_triage.cli.keys", None)  # import raises
    with pytest.raises(ModuleNotFoundError, match="lapor_triage.cli.keys"):
        build_parser()
