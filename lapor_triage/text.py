"""Text cleaning and personal-data masking shared by training, evaluation and the service.

Every text that a model sees, that is logged or that is stored passes through :func:`mask_pii`.
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

# The masking lives in lapor_triage.pii; these names stay importable from here for every caller.
from lapor_triage.pii import (  # noqa: F401
    EMAIL_TOKEN,
    NIK_TOKEN,
    PHONE_TOKEN,
    contains_pii,
    find_pii,
    mask_pii,
)

_TAG_RE = re.compile(r"<\s*br\s*/?\s*>|</?\s*p\s*>", re.IGNORECASE)
_ANY_TAG_RE = re.compile(r"<[^>]{1,200}>")
_WS_RE = re.compile(r"[ \t\r\f\v]+")
_NL_RE = re.compile(r"\s*\n\s*")


def strip_html(text: str) -> str:
    """Turn HTML line breaks into newlines, drop other tags and unescape entities."""
    text = text.replace("\\n", "\n")
    text = _TAG_RE.sub("\n", text)
    text = _ANY_TAG_RE.sub(" ", text)
    return html.unescape(html.unescape(text))


def normalise_whitespace(text: str) -> str:
    text = _WS_RE.sub(" ", text.replace("\u00a0", " "))
    return _NL_RE.sub("\n", text).strip()


def one_line(value: str | None) -> str | None:
    """Every run of whitespace (newlines too) as one space, trimmed; ``None`` when blank."""
    return (" ".join(value.split()) or None) if value else None


# The opening "Yth." (or "Kepada Yth", "Yang terhormat", "Yth ,"), then the salutation line.
_SALUTATION_HEAD_RE = re.compile(
    r"^\s*(?:kepada\s+)?(?:yth|yang\s+terhormat)\.?\s*[:,]?\s*", re.IGNORECASE
)
_LINE_BREAK_RE = re.compile(r"<\s*br\s*/?\s*>|\n", re.IGNORECASE)
# The first-punctuation reading: where a salutation whose name is no instansi name still ends.
_SALUTATION_RE = re.compile(
    r"^\s*(?:kepada\s+)?(?:yth|yang\s+terhormat)\.?\s*:?\s*[^\n,.:]{0,160}?(?:[,:.]+|\n|$)",
    re.IGNORECASE,
)
SALUTATION_MAX_WORDS = 12  # the longest real instansi names have 11 words
# Words a dot may follow inside an instansi name; any other dot ends a sentence ("yth. bpjs.. saya
# ingin menanyakan, ...": the name is "bpjs", the question is the citizen's).
_NAME_ABBREVIATIONS = frozenset(
    """kab kec kel prov kota jl jln dr drs h hj ir st no rs pt cv kc kcu kpp bpk bp ibu sdr ds ka
    kep kacab cab""".split()
)
# A dot run after a letter and not before a digit ("01.00" is a time, not a sentence end).
_SENTENCE_DOT_RE = re.compile(r"(?<=[^\W\d])\.+(?!\d)")
# A comma-separated part that continues an instansi name: "..., Usaha Kecil dan Menengah, ...",
# "Politik, Hukum, dan Keamanan", "RSUD Dr R Sosodoro, Kab. Bojonegoro" (Title Case, as LAPOR!'s
# form writes names); "Dinas Sosial, saya mau tanya ..." is the message.
_NAME_PART_RE = re.compile(r"^\s*(?:(?:dan|&)\s+)?[A-Z0-9(]")
# ... but a greeting after the comma is the message ("Yth. Bapak/Ibu Admin LAPOR, Assalamualaikum
# wr. wb. Izin ..." in the demo export: read as a name, it cut the message at "wr.").
_GREETING_PART_RE = re.compile(
    r"^\s*(?:ass?alam|salam\b|selamat\s+(?:pagi|siang|sore|malam)|dengan\s+hormat|mohon\b|saya\b)",
    re.IGNORECASE,
)


class Salutation(NamedTuple):
    """An opening salutation: the name as written (or None), where it ends, and how it ended.

    ``how``: ``"line"`` (the name is the whole salutation line, as LAPOR!'s form writes
    ``Yth. <instansi>, <br>``), ``"dot"`` (a sentence starts on the same line after the name),
    ``"comma"`` (the name ends at a comma and the message follows on the line: often the citizen's
    own greeting, ``Yth. Pak Hendi, ...``), ``None`` (no name). ``line_words``: words on the whole
    salutation line."""

    name: str | None
    end: int
    how: str | None
    line_words: int = 0


def _first_sentence_dot(name: str) -> re.Match[str] | None:
    """The first run of dots in ``name`` that does not follow an abbreviation (``Kab.``)."""
    for m in _SENTENCE_DOT_RE.finditer(name):
        words = name[: m.start()].split()
        if not words or words[-1].lower().rsplit(".", 1)[-1] not in _NAME_ABBREVIATIONS:
            return m
    return None


def read_salutation(text: str) -> Salutation:
    """The opening ``Yth. <instansi>,`` salutation of ``text`` (raw HTML or cleaned).

    One reading for every loader (the agency task's texts and labels, the disposition labels):
    the name runs to the end of the salutation line (an HTML ``<br>`` or a newline) when every
    comma inside it continues a Title-Case name (``Dinas Koperasi, Usaha Kecil dan Menengah, ...
    Kab. Batang Hari,``), else to its first comma or colon. A dot that follows no abbreviation
    (``Kab.``, ``Kec.``, ``Dr.``) ends the name: ``yth. dinas koperasi dan ukm. Kapan dana bantuan
    modal turun. Trim,`` names ``dinas koperasi dan ukm`` and the question stays in the message
    (it used to become the disposition label). A "name" of more than ``SALUTATION_MAX_WORDS``
    words is the message itself: name ``None``, and the salutation ends at its first punctuation.
    ``Salutation(None, 0, None)`` when the text opens with no salutation.
    """
    head = _SALUTATION_HEAD_RE.match(text)
    if not head:
        return Salutation(None, 0, None)
    start = head.end()
    brk = _LINE_BREAK_RE.search(text, start)
    line_end, after_line = (brk.start(), brk.end()) if brk else (len(text), len(text))
    line = text[start:line_end]
    cut, end, how = len(line), after_line, "line"
    parts = re.split(r"[,:;]", line.rstrip(",:; "))
    if not all(_NAME_PART_RE.match(p) and not _GREETING_PART_RE.match(p) for p in parts[1:]):
        if m := re.search(r"[,:;]+", line):  # the name ends at the first comma or colon
            cut, end, how = m.start(), start + m.end(), "comma"
    name = line[:cut]
    if dot := _first_sentence_dot(name):
        rest = line[dot.end() :].strip(" ,.:;")
        name, end = name[: dot.start()], start + dot.end()
        if rest:
            how = "dot"
        else:
            end = after_line
    name = name.strip(" ,:;-")
    if 0 < len(name.split()) <= SALUTATION_MAX_WORDS:
        return Salutation(name, end, how, len(line.split()))
    old = _SALUTATION_RE.match(text)
    return Salutation(None, old.end() if old else 0, None, len(line.split()))


def salutation_end(text: str) -> int:
    """Where an opening ``Yth. <instansi>,`` salutation ends in ``text`` (0 when there is none)."""
    return read_salutation(text).end


def salutation_name(text: str) -> str | None:
    """The instansi named by an opening ``Yth. <instansi>,`` salutation, as written (or None)."""
    return read_salutation(text).name


def strip_salutation(text: str) -> str:
    """Remove an opening ``Yth. <instansi>,`` salutation (it names the agency being routed to).

    The whole name goes, dots included: "Kab." used to end it and leave the region ("Bojonegoro,")
    in the text a model sees, half the label of the routing tasks."""
    return text[salutation_end(text) :].lstrip()


def clean_text(text: object, *, salutation: bool = True) -> str:
    """Full cleaning for text a model sees: HTML, whitespace, salutation, personal data."""
    if text is None:
        return ""
    s = str(text)
    if s.lower() == "nan":
        return ""
    s = normalise_whitespace(strip_html(s))
    if salutation:
        s = strip_salutation(s)
    return mask_pii(s)


def report_text(judul: object, isi: object) -> str:
    """The text available at triage time: title and the citizen's original body."""
    title = clean_text(judul, salutation=False)
    body = clean_text(isi)
    if title and body:
        return f"{title}\n{body}"
    return title or body
