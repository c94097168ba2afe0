"""Values of one cell of a data file: the dates of the exports (:func:`parse_date`) and the agency a
public post addresses in its opening salutation (:func:`salutation_agency`)."""

from __future__ import annotations

import re
from datetime import date, datetime

from lapor_triage.lapor_export import _is_blank
from lapor_triage.text import normalise_whitespace, salutation_name, strip_html

_MONTHS = {
    **dict.fromkeys(["jan", "januari", "january"], 1),
    **dict.fromkeys(["feb", "februari", "february", "peb", "pebruari"], 2),
    **dict.fromkeys(["mar", "maret", "march"], 3),
    **dict.fromkeys(["apr", "april"], 4),
    **dict.fromkeys(["mei", "may"], 5),
    **dict.fromkeys(["jun", "juni", "june"], 6),
    **dict.fromkeys(["jul", "juli", "july"], 7),
    **dict.fromkeys(["agu", "agt", "ags", "agustus", "aug", "august"], 8),
    **dict.fromkeys(["sep", "sept", "september"], 9),
    **dict.fromkeys(["okt", "oct", "oktober", "october"], 10),
    **dict.fromkeys(["nov", "nop", "november", "nopember"], 11),
    **dict.fromkeys(["des", "dec", "desember", "december"], 12),
}
_ISO_DATE_RE = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[\sT])")
_DMY_NAME_RE = re.compile(r"^\s*(\d{1,2})[\s\-/.]+([A-Za-z]+)\.?[\s\-/.,]+(\d{4})(?:$|[\s,T])")
_DMY_NUM_RE = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:$|[\s,T])")
_HONORIFIC_RE = re.compile(r"^(?:(?:bapak|ibu|bpk|pimpinan|kepala)\.?\s+)+", re.IGNORECASE)
_SALUTATION_AGENCY_RE = re.compile(
    r"^\s*(?:kepada\s+)?(?:yth|yang\s+terhormat)\.?\s*:?\s*"
    r"(?:(?:bapak|ibu|bpk|pimpinan|kepala)\.?\s+)*"
    r"([^\n,.:;!?]{2,160}?)\s*(?:[,:.;!?]|\n|$)",
    re.IGNORECASE,
)


def parse_date(value: object) -> str | None:
    """ISO date (``YYYY-MM-DD``) from the date forms found in the exports.

    Accepts ``date``/``datetime`` objects, ISO strings (with a time part), ``"6 Jan 2024"``,
    ``"21 Des 2015, 02:50:25 PM"`` (Indonesian or English month names, short or long) and
    day-first numeric dates (``"23/01/2023"``). Empty values give ``None``; anything else raises
    ``ValueError``.
    """
    if _is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime().date().isoformat()  # type: ignore[union-attr]
    s = str(value).strip()
    y = m = d = None
    if match := _ISO_DATE_RE.match(s):
        y, m, d = (int(g) for g in match.groups())
    elif match := _DMY_NAME_RE.match(s):
        month = _MONTHS.get(match.group(2).lower())
        if month is None:
            raise ValueError(f"unknown month name {match.group(2)!r} in date {s!r}")
        d, m, y = int(match.group(1)), month, int(match.group(3))
    elif match := _DMY_NUM_RE.match(s):
        d, m, y = (int(g) for g in match.groups())
    else:
        raise ValueError(f"unrecognised date {s!r}")
    try:
        return date(y, m, d).isoformat()
    except ValueError as exc:
        raise ValueError(f"invalid date {s!r}: {exc}") from None


def salutation_agency(text: object) -> str | None:
    """The agency a post addresses in its opening ``Yth. <instansi>,`` salutation, if any."""
    if _is_blank(text):
        return None
    s = normalise_whitespace(strip_html(str(text)))
    whole = salutation_name(s)  # the whole name, "Kab." included
    if whole:
        whole = _HONORIFIC_RE.sub("", whole).strip(" -")
        if whole:
            return whole
    match = _SALUTATION_AGENCY_RE.match(s)
    if not match:
        return None
    name = match.group(1).strip(" -")
    return name or None


def row_weight(obj: dict, default: float) -> float | None:
    """A feedback row's own ``weight`` (the service's ``LAPOR_FEEDBACK_WEIGHT_*``), else
    ``default``; ``None`` when it is not a number (the loaders skip the row as malformed)."""
    if _is_blank(obj.get("weight")):
        return default
    try:
        return float(obj["weight"])
    except (TypeError, ValueError):
        return None
