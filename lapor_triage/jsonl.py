"""Reading and writing JSON Lines with errors that name the file and row."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lapor_triage.records import DataError

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


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, row)``; blank lines are passed over, anything else must be an object."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", file=str(path))
    with path.open(encoding="utf-8-sig") as fh:
        try:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"invalid JSON ({exc.msg})", file=str(path), row=n) from exc
                if not isinstance(row, dict):
                    raise DataError("each line must be a JSON object", file=str(path), row=n)
                yield n, row
        except UnicodeDecodeError as exc:
            raise DataError(f"not UTF-8 text ({exc.reason})", file=str(path)) from exc


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
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
