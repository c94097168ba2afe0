"""Personal-data masking: NIK/NIP, phone numbers and e-mail addresses, in Indonesian notations.

Every text that a model sees, that is logged or that is stored passes through :func:`mask_pii`
(re-exported by :mod:`lapor_triage.text`). This module imports nothing else of the project.

How a text is read
------------------
Detection runs on a *normalised view* of the text, never on the text itself:

1. HTML character references are decoded (``&#56;`` → ``8``, ``&amp;`` → ``&``; twice, so that
   doubly escaped ``&amp;#56;`` is read as ``8`` too). Named references need their ``;``,
   numeric ones do not.
2. Every character is mapped by Unicode NFKC (full-width digits ``０８１２`` → ``0812``, a no-break
   space → a space, ``＠`` → ``@``). The mapping is applied character by character, which is what
   matters for digits, ``@`` and ASCII letters.
3. Invisible characters are dropped: zero-width space, non-joiner and joiner (U+200B..U+200D),
   left-to-right and right-to-left marks (U+200E, U+200F), word joiner and invisible operators
   (U+2060..U+2064), the Mongolian vowel separator (U+180E), the byte order mark (U+FEFF) and the
   soft hyphen (U+00AD). So ``0812\\u200b3456\\u200b7890`` is read as ``081234567890``.

Each character of the view remembers which characters of the original it came from.

What the output changes
-----------------------
Only the characters of the original text that a personal-data match covers (from the original
character behind the match's first view character to the one behind its last, entities and
invisible characters inside the match included) are replaced by ``[EMAIL]``, ``[NIK]`` or
``[TELEPON]``. Every other character is returned exactly as written: entities, full-width
characters, zero-width characters and spacing outside a match are not normalised. A text with no
match is returned unchanged (the same object).

What is masked
--------------
- ``[EMAIL]``: plain addresses (``nama@domain.tld``; ``andi7 @ gmail.com`` with spaces around the ``@``
  only before a common top-level domain, and with a space before it alone only for a well-known
  provider, so the handles ``ig @akun.id`` and ``@akun.official`` stay) and obfuscated ones: ``[at]``/``(at)``/``{at}``/``<at>`` and ``[dot]``/``(dot)``/`` dot ``
  (``andi7 [at] gmail [dot] com``, ``andi7(at)gmail.com``). The bare word form
  ``andi7 at gmail dot com`` counts only when it clearly forms an address: a single-token name,
  then a domain that is either spelled with `` dot `` or is a well-known mail provider
  (``andi7 at gmail.com``), ending in a common top-level domain.
- ``[NIK]``: 15–18 digit identity numbers (NIK 16, NIP 18 digits; also NOP PBB and card numbers of
  that length), with at most one space, dot or dash between digits. A run that reads as a date
  (``13-02-2023 14-02-2023``), a list of years (``2019 2020 2021 2022``) or a decimal number (the
  coordinates ``-6.947123456789012, 107.5490468423915`` in LAPOR! exports) is not a NIK. Also
  shorter identity numbers right behind their label (NIK, NIP, NISN, NKK/no KK, BPJS, KIS, KIP,
  PIP, JKN): ``NISN : 0101652260``, ``nik 357i064605850007`` (a letter typed for a digit), and
  BPJS Kesehatan card numbers (13 digits starting ``000``) anywhere.
- ``[TELEPON]``: phone numbers as the maintained ``phonenumbers`` package validates them (region
  ``ID``; any region after a ``+``). Candidates are runs of digits separated by up to three of
  space, tab, ``.``, ``-``, ``(``, ``)`` (``(022) 7000123``, ``0812 - 0648 - 7891``,
  ``+62 812-3456-7890``), also glued to words (``WA081206797892``, ``hp:0812…``). A stretch of a
  run is tried when it starts with ``0``, ``62`` or ``+``; digits hidden behind ``x``, ``X``,
  ``*`` or ``•`` (``0812-7xxx-7894``) are validated as zeros and masked with the visible digits.
  The regular expressions only *find* candidates; ``phonenumbers`` decides what is a number.

Not masked: years, dates and times (``08.30 - 10.00``, ``08-12-2022 10.00``), money
(``Rp 1.500.000``: a stretch never starts right after a ``.`` or ``,`` inside a run), RT/RW, house
numbers, report ids, km markers (``KM 0+800``).

Speed: a text without ``&``, invisible characters or non-NFKC characters is read as it is (no
view is built); a cheap scan for stretches of digits, separators and masking characters comes
first, and the run expression and ``phonenumbers`` only look where such a stretch holds at least
six digits; the e-mail expressions run only where an ``@`` or a word ``at`` occurs. Validations
are cached, and one text may cost at most 64 + one per 100 characters of them: past that budget
a candidate is judged by its shape alone (masks more, never less), so a hostile text of digit
groups stays linear in its length.

Not covered (left as written): customer, account and registration numbers that are neither phone
numbers nor identity numbers (PDAM ``no pelanggan 00206360870``, land certificate numbers,
``No. Kitir``), and addresses or names.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

NIK_TOKEN = "[NIK]"
PHONE_TOKEN = "[TELEPON]"
EMAIL_TOKEN = "[EMAIL]"
TOKENS = {"email": EMAIL_TOKEN, "nik": NIK_TOKEN, "phone": PHONE_TOKEN}

# --- the normalised view -------------------------------------------------------------------
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};)")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


@dataclass(frozen=True)
class _View:
    """The normalised text and, per character, the original span ``[start, end)`` it came from."""

    text: str
    starts: list[int] | None = None  # None: the view is the original text
    ends: list[int] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def _rewrite(view: _View, pattern: re.Pattern[str], replace: Callable[[str], str]) -> _View:
    """Apply ``replace`` to every match of ``pattern`` in the view, keeping the origin map."""
    text = view.text
    starts = view.starts if view.starts is not None else list(range(len(text)))
    ends = view.ends if view.ends is not None else list(range(1, len(text) + 1))
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    pos = 0
    for m in pattern.finditer(text):
        a, b = m.span()
        out.append(text[pos:a])
        new_starts.extend(starts[pos:a])
        new_ends.extend(ends[pos:a])
        replacement = replace(m.group())
        out.append(replacement)
        new_starts.extend([starts[a]] * len(replacement))
        new_ends.extend([ends[b - 1]] * len(replacement))
        pos = b
    out.append(text[pos:])
    new_starts.extend(starts[pos:])
    new_ends.extend(ends[pos:])
    return _View("".join(out), new_starts, new_ends)


def _nfkc(char: str) -> str:
    return unicodedata.normalize("NFKC", char)


def normalised_view(text: str) -> _View:
    """The text as the detectors read it (see the module docstring), with its origin map."""
    if (
        "&" not in text
        and not _INVISIBLE_RE.search(text)
        and (text.isascii() or unicodedata.is_normalized("NFKC", text))
    ):
        return _View(text)
    view = _View(text)
    for _ in range(2):  # doubly escaped entities (&amp;#56;) are common in scraped exports
        if "&" not in view.text:
            break
        view = _rewrite(view, _ENTITY_RE, html.unescape)
    if not view.text.isascii():
        view = _rewrite(view, _NON_ASCII_RE, _nfkc)
        view = _rewrite(view, _INVISIBLE_RE, lambda _: "")
    return view


# --- e-mail addresses ----------------------------------------------------------------------
_LOCAL = r"[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63}[A-Za-z0-9_])?"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_OPEN, _CLOSE = r"[\[({<]", r"[\])}>]"
_AT_MARK = rf"(?:@|\s*{_OPEN}\s*(?:at|@)\s*{_CLOSE}\s*)"
_DOT_MARK = rf"(?:\.|\s*{_OPEN}\s*(?:dot|titik|\.)\s*{_CLOSE}\s*|\s+(?:dot|titik)\s+)"
_EMAIL_RE = re.compile(
    rf"(?<![A-Za-z0-9._%+-]){_LOCAL}{_AT_MARK}{_LABEL}(?:{_DOT_MARK}{_LABEL})*"
    rf"{_DOT_MARK}[A-Za-z]{{2,24}}(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# "andi7 at gmail dot com": only with a spoken "dot" or a well-known provider, and a common TLD.
_TLD = r"(?:com|net|org|id|info|biz|edu|gov|co|io|me|us|uk|my|sg)"
_PROVIDER = (
    r"(?:gmail|googlemail|yahoo|ymail|rocketmail|hotmail|outlook|live|icloud|me|aol|"
    r"proton(?:mail)?|pm|yandex|zoho|gmx|mail)"
)
_SPOKEN_EMAIL_RE = re.compile(
    rf"(?<![A-Za-z0-9._%+-]){_LOCAL}\s+at\s+"
    rf"(?:{_LABEL}(?:\s+(?:dot|titik)\s+{_LABEL})*\s+(?:dot|titik)\s+{_TLD}"
    rf"|{_PROVIDER}(?:\.{_LABEL})*\.{_TLD})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# "andi7 @ gmail.com", "andi7 @gmail.com": spaces around a bare @ only before a common TLD, and a
# space before the @ alone only with a well-known provider ("ig @akun.id" is a handle).
_SPACED_EMAIL_RE = re.compile(
    rf"(?<![A-Za-z0-9._%+@-]){_LOCAL}(?:[^\S\n]*@[^\S\n]+{_LABEL}(?:{_DOT_MARK}{_LABEL})*"
    rf"|[^\S\n]+@{_PROVIDER}(?:\.{_LABEL})*){_DOT_MARK}{_TLD}(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_AT_WORD_RE = re.compile(r"\bat\b", re.IGNORECASE)

# --- digit runs: NIK/NIP and phone numbers ---------------------------------------------------
_MASK_CHARS = "xX*\u2022"
# A run: digits (and masking characters) separated by at most three of space, tab . - ( ).
_RUN_RE = re.compile(
    rf"(?<![0-9+])(?:\(?[ \t]?\+[ \t]?|\([ \t]?)?[0-9](?:[ \t.\-()]{{0,3}}[0-9{_MASK_CHARS}])*"
)
# A superset of the runs, cheap to scan for: where it holds fewer than six digits, no run can.
_COARSE_RUN_RE = re.compile(rf"[0-9][0-9 \t.\-(){_MASK_CHARS}]*")
_GROUP_RE = re.compile(rf"[0-9{_MASK_CHARS}]+")
_NIK_RE = re.compile(r"(?<![0-9])(?<![0-9][.,])(?:[0-9][ .\-]?){14,17}[0-9](?![0-9])")
_DECIMAL_RE = re.compile(r"-?[0-9]{1,3}[.,][0-9]{12,}")  # -6.947123456789012: a coordinate
_DATE_RE = re.compile(
    r"(?<![0-9])(?:0?[1-9]|[12][0-9]|3[01])[ .\-/](?:0?[1-9]|1[0-2])[ .\-/](?:19|20)?[0-9]{2}"
    r"(?![0-9])"
)
_YEARS_RE = re.compile(r"(?:(?:19|20)[0-9]{2}[ .\-]?)+")
# Shorter identity numbers behind their label (also right after a literal "\\n", as scraped
# exports write line breaks): "NISN : 0101652260", "nik 357i064605850007" (a
# letter typed for a digit), "nomor BPJS : 0002256333906"; and BPJS Kesehatan card numbers
# (13 digits starting 000) anywhere.
_LABELLED_ID_RE = re.compile(
    r"(?:(?<![A-Za-z])|(?<=\\n))(?:nik|nip|nisn|nkk|no\.?\s?kk|bpjs|kis|kip|pip|jkn)(?![A-Za-z])"
    r"[^\S\n]{0,3}(?:[:.=][^\S\n]{0,3}){0,2}([0-9][0-9A-Za-z.\-]{8,24}[0-9])(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_BPJS_RE = re.compile(r"(?<![0-9])000[0-9]{10}(?![0-9])")
_MIN_RUN_DIGITS = 6
_MAX_PHONE_DIGITS = 15
# 0 + 7..12 national digits, or 62 + 8..12; numbers after a "+" may be as long as 15
_MIN_NATIONAL_DIGITS, _MAX_NATIONAL_DIGITS = 8, 14
_MASK_TO_ZERO = str.maketrans(dict.fromkeys(_MASK_CHARS, "0"))
_VALIDATIONS_PER_TEXT = 64
_PHONE_SHAPE_RE = re.compile(r"\+[1-9][0-9]{7,14}|(?:0|62)(?:8[1-9][0-9]{7,10}|[2-7][0-9]{6,10})")


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data: its kind (email, nik, phone) and its span in the original."""

    kind: str
    start: int
    end: int


def _is_nik(candidate: str) -> bool:
    """A NIK candidate that is not a date (13-02-2023 14-02-2023), a list of years nor a decimal
    number (the coordinates -6.947123456789012, 107.549046842391 that LAPOR! exports carry)."""
    if (
        _DATE_RE.search(candidate)
        or _YEARS_RE.fullmatch(candidate)
        or _DECIMAL_RE.fullmatch(candidate)
    ):
        return False
    return True


class _Taken:
    """The spans already masked: disjoint, kept sorted, so an overlap test is one bisection."""

    __slots__ = ("starts", "ends")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def overlaps(self, a: int, b: int) -> bool:
        i = bisect.bisect_left(self.starts, b)  # spans before i start before b
        return i > 0 and self.ends[i - 1] > a

    def add(self, a: int, b: int) -> bool:
        """Take ``[a, b)`` unless it overlaps a span already taken; True when taken."""
        if self.overlaps(a, b):
            return False
        i = bisect.bisect_left(self.starts, a)
        self.starts.insert(i, a)
        self.ends.insert(i, b)
        return True


@functools.lru_cache(maxsize=4096)
def _is_phone(digits: str, plus: bool) -> bool:
    """``phonenumbers`` decides: valid for Indonesia (any country after an explicit ``+``)."""
    try:
        if plus:
            number = phonenumbers.parse("+" + digits, None)
        elif digits.startswith("62"):
            number = phonenumbers.parse("+" + digits, None)
            if number.country_code != 62:
                return False
        elif digits.startswith("0") and not digits.startswith("00"):
            number = phonenumbers.parse(digits, "ID")
        else:
            return False
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


class _Budget:
    """How many more ``phonenumbers`` validations one text may cost.

    A hostile text (``"62 " * 7000``) offers thousands of candidates; past the budget a candidate
    is judged by its shape alone (:data:`_PHONE_SHAPE_RE`), which masks more, never less."""

    __slots__ = ("left",)

    def __init__(self, text_length: int) -> None:
        self.left = _VALIDATIONS_PER_TEXT + text_length // 100

    def is_phone(self, digits: str, plus: bool) -> bool:
        if self.left > 0:
            self.left -= 1
            return _is_phone(digits, plus)
        return bool(_PHONE_SHAPE_RE.fullmatch(("+" if plus else "") + digits))


def _phone_at(
    run: str, groups: list[re.Match[str]], i: int, budget: _Budget
) -> tuple[int, int, int] | None:
    """The longest phone number starting at group ``i``: (start, end, last group) or None."""
    first = groups[i]
    before = run[groups[i - 1].end() : first.start()] if i else run[: first.start()]
    plus = "+" in before
    head = first.group()
    if head[0] in _MASK_CHARS or not (plus or head.startswith(("0", "62"))):
        return None
    if not plus:
        if i and before in {".", ",", "-"}:
            return None  # a stretch never starts after a bare "." "," "-": money, 02-2023
        if _DATE_RE.match(run, first.start()):
            return None  # 08-12-2022, 08 12 2022
        lead = head if len(head) > 1 or i + 1 == len(groups) else head + groups[i + 1].group()
        if lead.startswith("00"):
            return None  # no Indonesian number starts 00 (and 000… is a BPJS card)
        if i + 1 < len(groups):
            sep = run[first.end() : groups[i + 1].start()]
            if len(head) <= 2 and head != "62" and sep in {".", "-"}:
                return None  # 08.30 - 10.00 (a time), 02-2023 (a month)
            if head == "0" and sep in {".", ","}:
                return None  # 0.5: a decimal fraction
    # the longest stretch of whole groups with at most 15 digits; digit counts at each boundary
    parts: list[str] = []
    bounds: list[int] = []
    visible: list[int] = []
    total = seen = 0
    for index in range(i, len(groups)):  # no slice: a hostile run has thousands of groups
        g = groups[index].group()
        if total + len(g) > _MAX_PHONE_DIGITS:
            break
        parts.append(g)
        total += len(g)
        seen += sum(map(str.isdigit, g))
        bounds.append(total)
        visible.append(seen)
    digits = "".join(parts).translate(_MASK_TO_ZERO)
    for k in range(len(bounds) - 1, -1, -1):
        if visible[k] < _MIN_RUN_DIGITS:
            return None
        if not plus and not _MIN_NATIONAL_DIGITS <= bounds[k] <= _MAX_NATIONAL_DIGITS:
            continue
        if budget.is_phone(digits[: bounds[k]], plus):
            start = run.rindex("+", 0, first.start()) if plus else first.start()
            prev_end = groups[i - 1].end() if i else 0
            opening = run[prev_end:start].rstrip(" \t")
            if opening.endswith("(") and run[first.end() :].lstrip(" \t").startswith(")"):
                start = prev_end + len(opening) - 1  # (022) 7000123, (+62) 812…: brackets whole
            return start, groups[i + k].end(), i + k
    return None


def _phones_in_run(run: str, offset: int, taken: _Taken, budget: _Budget) -> list[PiiMatch]:
    """Phone numbers among the groups of one digit run (see the module docstring)."""
    groups = list(_GROUP_RE.finditer(run))
    found: list[PiiMatch] = []
    i = 0
    while i < len(groups):
        hit = _phone_at(run, groups, i, budget)
        if hit is not None:
            a, b = offset + hit[0], offset + hit[1]
            if taken.add(a, b):
                found.append(PiiMatch("phone", a, b))
                i = hit[2] + 1
                continue
        i += 1
    return found


def _find_in_view(text: str) -> list[PiiMatch]:
    """Personal data in a normalised view, spans in view coordinates, ordered by position."""
    found: list[PiiMatch] = []
    taken = _Taken()
    if "@" in text or _AT_WORD_RE.search(text):
        for pattern in (_EMAIL_RE, _SPOKEN_EMAIL_RE, _SPACED_EMAIL_RE):
            for m in pattern.finditer(text):
                if taken.add(*m.span()):
                    found.append(PiiMatch("email", *m.span()))
    runs = []
    for coarse in _COARSE_RUN_RE.finditer(text):  # the cheap pre-filter: >= 6 digits nearby
        start, end = coarse.span()
        if end - start < _MIN_RUN_DIGITS or sum(map(str.isdigit, coarse.group())) < 6:
            continue
        for run_match in _RUN_RE.finditer(text, max(0, start - 4), end):  # "( +" before
            digit_count = sum(map(str.isdigit, run_match.group()))
            if digit_count >= _MIN_RUN_DIGITS:
                runs.append((run_match, digit_count))
    for run_match, digit_count in runs:
        if digit_count < 13:
            continue
        run, offset = run_match.group(), run_match.start()
        nik_spans = [m.span() for m in _NIK_RE.finditer(run) if _is_nik(m.group())]
        for a, b in nik_spans + [m.span() for m in _BPJS_RE.finditer(run)]:
            if taken.add(offset + a, offset + b):
                found.append(PiiMatch("nik", offset + a, offset + b))
    if any(digit_count >= 8 for _, digit_count in runs):
        for m in _LABELLED_ID_RE.finditer(text):
            number = m.group(1)
            digits = sum(c.isdigit() for c in number)
            letters = sum(c.isalpha() for c in number)
            if digits < 8 or letters > 2 or not _is_nik(number):
                continue
            if taken.add(*m.span(1)):
                found.append(PiiMatch("nik", *m.span(1)))
    budget = _Budget(len(text))
    for run_match, _ in runs:
        found.extend(_phones_in_run(run_match.group(), run_match.start(), taken, budget))
    found.sort(key=lambda p: p.start)
    return found


def find_pii(text: str) -> list[PiiMatch]:
    """Every piece of personal data in ``text``, with spans in the original text, by position."""
    if not text:
        return []
    view = normalised_view(text)
    matches = _find_in_view(view.text)
    if view.starts is None:
        return matches
    return [PiiMatch(m.kind, *view.original_span(m.start, m.end)) for m in matches]


def mask_pii(text: str) -> str:
    """Replace e-mail addresses, NIK/NIP numbers and phone numbers with placeholder tokens.

    Only the matched characters change (see the module docstring for what is read and how).
    """
    if not text:
        return text
    matches = find_pii(text)
    if not matches:
        return text
    out: list[str] = []
    pos = 0
    for m in matches:
        if m.start < pos:  # two matches behind one original character (an entity): one token
            pos = max(pos, m.end)
            continue
        out.append(text[pos : m.start])
        out.append(TOKENS[m.kind])
        pos = m.end
    out.append(text[pos:])
    return "".join(out)


def contains_pii(text: str) -> bool:
    """True when ``text`` still holds something that looks like a NIK, phone number or e-mail."""
    return bool(text) and bool(_find_in_view(normalised_view(text).text))
