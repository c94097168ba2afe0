"""Errors shared by every layer (core module: imports nothing of ours)."""

from __future__ import annotations


class DataError(ValueError):
    """Input that cannot be used. The message names the file, and the row and column where known.

    ``line`` is for line-based files (JSON Lines): the message then says "line N" and ``row`` holds
    the same number, so callers that look at ``row`` keep working.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file, self.column = file, column
        self.row = line if line is not None else row
        self.line = line
        where = ", ".join(
            p
            for p in (
                file and f"file {file}",
                line is not None and f"line {line}",
                line is None and row is not None and f"row {row}",
                column and f"column {column!r}",
            )
            if p
        )
        super().__init__(f"{where}: {message}" if where else message)
