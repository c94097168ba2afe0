"""JSON Lines: the one reader (and writer) of the project, with one error policy.

Policy (every JSON Lines file the project reads: training data, reply labels, feedback exports,
``predict`` input, MLflow evaluation splits, the challenge set):

* A file is UTF-8 text holding one JSON object per line. Lines are split at ``"\\n"`` only (a
  ``"\\r\\n"`` ending is accepted), so a string may hold U+2028 and the other characters that
  ``str.splitlines()`` breaks at. Blank lines are passed over; a byte-order mark is ignored.
* **Strict by default**: the first line that is not a JSON object (broken JSON, a list or a number,
  bytes that are not UTF-8) raises :class:`~lapor_triage.errors.DataError` naming the file, the
  line number and a readable reason ("a string is not closed", "this looks like CSV, not JSON"),
  and saying that the file must be JSON Lines.
* **Counted skips on request**: with ``on_error="skip"`` such lines are passed over; each one is
  kept in :attr:`JsonLines.skipped` (line number and reason) and one warning with their count is
  logged when the file has been read.
* A file with no JSON object at all is an error (``allow_empty=True`` accepts it).

The reader streams the file line by line (a large export is never held twice in memory). The
standard library's :mod:`json` parses each line; this module only adds the policy and the messages
(json's own read "Invalid control character at: line 1 column 32 (char 31)").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lapor_triage.errors import DataError

log = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]
ON_ERROR = ("raise", "skip")
FORMAT_HINT = "the file must be JSON Lines: one JSON object per line"

# Characters that str.splitlines() and many line readers treat as line ends, although JSON allows
# them raw inside strings: escaped, so every JSON line stays one line for every reader.
_LINE_BREAKERS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_line(obj: Any) -> str:
    """``obj`` as one line of JSON (UTF-8 text kept readable, no newline at the end)."""
    line = json.dumps(obj, ensure_ascii=False)
    if any(ch in line for ch in _LINE_BREAKERS):
        for ch, escaped in _LINE_BREAKERS.items():
            line = line.replace(ch, escaped)
    return line


@dataclass(frozen=True)
class BadLine:
    """A line passed over under ``on_error="skip"``: where, and why (readable)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def _looks_tabular(line: str) -> bool:
    head = line.strip()[:200]
    return not head.startswith(("{", "[", '"')) and any(sep in head for sep in (",", ";", "\t"))


def describe_json_error(exc: json.JSONDecodeError, line: str | None = None) -> str:
    """A reason a newcomer can act on, for a :class:`json.JSONDecodeError` on one line.

    ``json`` says "Invalid control character at" or "Expecting value"; this says what is wrong
    and where (column, 1-based), without quoting the text (it may hold personal data).
    """
    msg = exc.msg
    if line is None:
        col = exc.colno
    else:
        end = len(line.rstrip())
        col = min(exc.pos, end) + 1
        if 0 < end <= exc.pos:
            return f"the line ends before the JSON object does (column {col}): it looks cut off"
    if msg == "Expecting value":
        if exc.pos == 0 and line is not None and _looks_tabular(line):
            return (
                "this line is not JSON: it looks like CSV or plain text "
                "(convert the file to JSON Lines first)"
            )
        if exc.pos == 0:
            return "this line is not JSON (it does not start with '{')"
        return f"no JSON value where one is expected, at column {col}"
    if msg.startswith("Invalid control character"):
        return (
            f"a raw control character (a tab, line break or similar) inside a string at column "
            f"{col}; write it escaped, e.g. \\t or \\n"
        )
    if msg.startswith("Unterminated string"):
        return f"a string that starts at column {col} is not closed: the line looks cut off"
    if msg == "Extra data":
        return (
            f"more than one JSON value on the line (more text from column {col}); "
            "put each object on a line of its own"
        )
    if msg.startswith("Expecting property name"):
        return (
            f"a key in double quotes is expected at column {col} (single quotes and a comma "
            "before '}' are not JSON)"
        )
    if msg.startswith("Expecting ',' delimiter"):
        return f"a ',' or the closing bracket is expected at column {col}"
    if msg.startswith("Expecting ':' delimiter"):
        return f"a ':' after the key is expected at column {col}"
    if msg.startswith("Invalid") and "escape" in msg:
        return f"an invalid backslash escape at column {col} (write a backslash as \\\\)"
    return f"{msg} at column {col}"


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


class JsonLines:
    """Iterable of ``(line_number, object)`` over a JSON Lines source, under the module's policy.

    Iterate it once. After iterating, :attr:`skipped` lists the lines passed over (only ever
    non-empty with ``on_error="skip"``) and :attr:`n_objects` counts the objects yielded.
    """

    def __init__(
        self,
        lines: Iterable[bytes | str],
        source: str,
        *,
        on_error: OnError = "raise",
        allow_empty: bool = False,
    ) -> None:
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, not {on_error!r}")
        self._lines = lines
        self.source = source
        self.on_error = on_error
        self.allow_empty = allow_empty
        self.skipped: list[BadLine] = []
        self.n_objects = 0

    def _bad(self, n: int, reason: str, *, last: bool = False) -> None:
        if last and "cut off" in reason:
            reason += ", and the file ends there without a line end: the file looks truncated"
        if self.on_error == "raise":
            raise DataError(f"{reason}; {FORMAT_HINT}", file=self.source, line=n)
        self.skipped.append(BadLine(n, reason))

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        n = 0
        for n, raw in enumerate(self._lines, start=1):
            ended = raw.endswith(b"\n" if isinstance(raw, bytes) else "\n")
            if isinstance(raw, bytes):
                try:
                    text = raw.decode("utf-8-sig" if n == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    self._bad(
                        n,
                        f"not UTF-8 text (byte {raw[exc.start]:#04x} at byte {exc.start + 1} of "
                        "the line); save the file as UTF-8",
                    )
                    continue
            else:
                text = raw.removeprefix("\ufeff") if n == 1 else raw
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                self._bad(n, describe_json_error(exc, text), last=not ended)
                continue
            except RecursionError:
                self._bad(n, "the JSON is nested too deeply")
                continue
            if not isinstance(obj, dict):
                hint = " (a JSON array file? write one object per line)" if n == 1 else ""
                self._bad(n, f"this line holds {_kind(obj)}, not a JSON object{hint}")
                continue
            self.n_objects += 1
            yield n, obj
        if self.skipped:
            first = self.skipped[0]
            log.warning(
                "%s: skipped %d of %d lines that are not JSON objects (first: %s)",
                self.source,
                len(self.skipped),
                n,
                first,
            )
        if not self.n_objects and not self.allow_empty:
            what = (
                "the file holds no JSON object"
                if self.skipped
                else "the file is empty (blank lines only)"
                if n
                else "the file is empty"
            )
            raise DataError(f"{what}; {FORMAT_HINT}", file=self.source)


def _file_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from fh  # binary iteration splits at b"\n" only


def read_jsonl(
    path: str | Path, *, on_error: OnError = "raise", allow_empty: bool = False
) -> JsonLines:
    """The objects of a JSON Lines file as ``(line_number, object)``, under the module's policy.

    Raises :class:`~lapor_triage.errors.DataError` naming the file when it is missing or a folder
    (at once), and, while iterating, at the first bad line (``on_error="raise"``) or when the
    file holds no object.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("no such file", file=str(path))
    if path.is_dir():
        raise DataError("is a folder, not a JSON Lines file", file=str(path))
    return JsonLines(_file_lines(path), str(path), on_error=on_error, allow_empty=allow_empty)


def parse_jsonl(
    text: str, source: str, *, on_error: OnError = "raise", allow_empty: bool = False
) -> JsonLines:
    """Like :func:`read_jsonl` for JSON Lines already in memory (``source`` names it in errors)."""
    parts = text.split("\n")  # "\n" only: see json_line
    lines = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    return JsonLines(lines, source, on_error=on_error, allow_empty=allow_empty)


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write ``rows`` as JSON Lines (atomically: a temporary file renamed); returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json_line(row) + "\n")
            n += 1
    tmp.replace(path)
    return n
