"""Text cleaning and personal-data masking shared by training, evaluation and the service.

Every text that a model sees, that is logged or that is stored passes through :func:`mask_pii`.
"""

from __future__ import annotations

import html
import re

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
# The opening "Yth. <instansi>," salutation names the answer of the routing task.
_SALUTATION_RE = re.compile(
    r"^\s*(?:kepada\s+)?(?:yth|yang\s+terhormat)\.?\s*:?\s*[^\n,.:]{0,160}?(?:[,:.]+|\n|$)",
    re.IGNORECASE,
)


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


# The whole salutation line: the name runs to the first comma, colon or line break, dots included
# ("Yth. Dinas Sosial Kab. Bojonegoro, ..."). A "name" of more than SALUTATION_MAX_WORDS words is
# the message itself (no comma was typed): then the salutation ends at the first punctuation.
_SALUTATION_LINE_RE = re.compile(
    r"^\s*(?:kepada\s+)?(?:yth|yang\s+terhormat)\.?\s*:?\s*(?P<name>[^\n,:]{0,200}?)\s*"
    r"(?:[,:]+|\n|$)",
    re.IGNORECASE,
)
SALUTATION_MAX_WORDS = 12  # the longest real instansi names have 11 words
# Words a dot may follow inside an instansi name; any other dot ends a sentence ("yth. bpjs.. saya
# ingin menanyakan, ...": the name is "bpjs", the question is the citizen's).
_NAME_ABBREVIATIONS = frozenset(
    "kab kec kel prov kota jl jln dr drs h hj ir st no rs pt cv kc kcu kpp bpk bp ibu sdr ds ka".split()
)


def _dots_are_abbreviations(name: str) -> bool:
    parts = re.split(r"\.+", name)
    for part in parts[:-1]:
        words = part.split()
        if not words or words[-1].lower() not in _NAME_ABBREVIATIONS:
            return False
    return True


def _salutation_line(text: str) -> re.Match[str] | None:
    """The whole-line salutation of ``text`` when its name reads as an instansi name."""
    m = _SALUTATION_LINE_RE.match(text)
    name = m.group("name") if m else ""
    if 0 < len(name.split()) <= SALUTATION_MAX_WORDS and _dots_are_abbreviations(name):
        return m
    return None


def salutation_end(text: str) -> int:
    """Where an opening ``Yth. <instansi>,`` salutation ends in ``text`` (0 when there is none)."""
    m = _salutation_line(text) or _SALUTATION_RE.match(text)
    return m.end() if m else 0


def salutation_name(text: str) -> str | None:
    """The instansi named by an opening ``Yth. <instansi>,`` salutation, as written (or None)."""
    m = _salutation_line(text)
    return (m.group("name").strip(" -.") or None) if m else None


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
