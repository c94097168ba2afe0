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


def strip_salutation(text: str) -> str:
    """Remove an opening ``Yth. <instansi>,`` salutation (it names the agency being routed to)."""
    return _SALUTATION_RE.sub("", text, count=1).lstrip()


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
