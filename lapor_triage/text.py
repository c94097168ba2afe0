"""Text cleaning and personal-data masking shared by training, evaluation and the service.

Every text that a model sees, that is logged or that is stored passes through :func:`mask_pii`.
"""

from __future__ import annotations

import html
import re

# 16-digit NIK and 18-digit NIP (also written with spaces or dots between groups).
_NIK_RE = re.compile(r"(?<!\d)(?:\d[ .-]?){14,17}\d(?!\d)")
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Indonesian phone numbers: +62 / 62 / 0 followed by 8-13 digits, separators allowed.
_PHONE_RE = re.compile(r"(?<![\w])(?:\+62|62|0)[ .-]?8?\d(?:[ .-]?\d){6,12}(?!\d)")
_TAG_RE = re.compile(r"<\s*br\s*/?\s*>|</?\s*p\s*>", re.IGNORECASE)
_ANY_TAG_RE = re.compile(r"<[^>]{1,200}>")
_WS_RE = re.compile(r"[ \t\r\f\v]+")
_NL_RE = re.compile(r"\s*\n\s*")
# The opening "Yth. <instansi>," salutation names the answer of the routing task.
_SALUTATION_RE = re.compile(
    r"^\s*(?:kepada\s+)?(?:yth|yang\s+terhormat)\.?\s*:?\s*[^\n,.:]{0,160}?(?:[,:.]+|\n|$)",
    re.IGNORECASE,
)

NIK_TOKEN = "[NIK]"
PHONE_TOKEN = "[TELEPON]"
EMAIL_TOKEN = "[EMAIL]"


def mask_pii(text: str) -> str:
    """Replace e-mail addresses, NIK/NIP numbers and phone numbers with placeholder tokens."""
    if not text:
        return text
    text = _EMAIL_RE.sub(EMAIL_TOKEN, text)
    text = _NIK_RE.sub(NIK_TOKEN, text)
    text = _PHONE_RE.sub(PHONE_TOKEN, text)
    return text


def contains_pii(text: str) -> bool:
    """True when ``text`` still holds something that looks like a NIK, phone number or e-mail."""
    return bool(_EMAIL_RE.search(text) or _NIK_RE.search(text) or _PHONE_RE.search(text))


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
