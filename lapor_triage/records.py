"""What the loaders return: examples, and an account of every row that was not used."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lapor_triage.errors import DataError

__all__ = ["DataError", "Example", "LoadResult", "LoadSummary", "Skipped"]


@dataclass
class Example:
    """One labelled (or unlabelled) item, ready for a predictor.

    ``text`` is already cleaned (HTML, whitespace, salutation, PII masked). ``row`` is the 1-based
    row number in the source file as a spreadsheet shows it (header rows included).
    """

    id: str
    text: str
    label: str | None = None
    source: str = ""
    row: int | None = None
    date: str | None = None  # ISO date (YYYY-MM-DD) when the source has one
    weight: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """The mapping handed to predictors: ``text`` plus metadata (location, agency, ...)."""
        return {"id": self.id, "text": self.text, **self.meta}


@dataclass
class Skipped:
    file: str
    row: int | None
    column: str | None
    reason: str  # short code: empty_text, missing_label, unknown_label, duplicate_id, ...
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.file}" + (f" row {self.row}" if self.row is not None else "")
        col = f" column {self.column!r}" if self.column else ""
        return f"{where}{col}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class LoadSummary:
    """Rows read, used and skipped (with reasons) per file."""

    rows_read: Counter[str] = field(default_factory=Counter)
    rows_used: Counter[str] = field(default_factory=Counter)
    skipped: list[Skipped] = field(default_factory=list)
    label_counts: Counter[str] = field(default_factory=Counter)

    def skip(
        self, file: str, row: int | None, column: str | None, reason: str, detail: str = ""
    ) -> None:
        self.skipped.append(Skipped(file, row, column, reason, detail))

    def supersede(
        self,
        examples: list[Example],
        index: int,
        new: Example,
        file: str,
        column: str | None,
        prev_file: str,
    ) -> None:
        """A later decision on the same report replaces ``examples[index]`` (read from
        ``prev_file``): the earlier one is counted out and recorded as a ``duplicate_id`` skip,
        ``new`` (read from ``file``) is counted in. The feedback loaders of the agency and the
        disposition tasks both keep the latest decision per report."""
        prev = examples[index]
        self.rows_used[prev_file] -= 1
        if prev.label is not None:
            self.label_counts[prev.label] -= 1
            self.label_counts += Counter()  # drop zero counts
        self.skip(
            prev_file,
            prev.row,
            column,
            "duplicate_id",
            f"id {new.id!r} superseded by {file} row {new.row}",
        )
        examples[index] = new
        self.rows_used[file] += 1
        if new.label is not None:
            self.label_counts[new.label] += 1

    @property
    def skipped_by_reason(self) -> Counter[str]:
        return Counter(s.reason for s in self.skipped)

    def merge(self, other: LoadSummary) -> LoadSummary:
        self.rows_read.update(other.rows_read)
        self.rows_used.update(other.rows_used)
        self.skipped.extend(other.skipped)
        self.label_counts.update(other.label_counts)
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows_read": dict(self.rows_read),
            "rows_used": dict(self.rows_used),
            "rows_skipped": len(self.skipped),
            "skipped_by_reason": dict(self.skipped_by_reason),
            "label_counts": dict(self.label_counts),
        }

    def render(self, max_examples: int = 5) -> str:
        lines = []
        for f in self.rows_read:
            lines.append(f"{f}: {self.rows_read[f]} rows read, {self.rows_used[f]} used")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} rows:")
            for reason, n in self.skipped_by_reason.most_common():
                lines.append(f"  {reason}: {n}")
                for s in [s for s in self.skipped if s.reason == reason][:max_examples]:
                    lines.append(f"    {s}")
        return "\n".join(lines)


@dataclass
class LoadResult:
    examples: list[Example]
    summary: LoadSummary
