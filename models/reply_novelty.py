"""What a reply adds to its report, and whether it names the report's own places.

The guideline judges a reply against the report it answers: "mentioning the report's location or
topic does not by itself make a reply substantif" and a specific-looking reply about another
matter is ``tidak_relevan``. Counting digits, places and names in the reply alone rewards a reply
that repeats the report back ("pengaduan jalan berlubang di Jl. Kenanga RT 03 akan kami cek
nanti"). These signals split each kind of specific item into the part that is *new* (absent from
the report) and the part that is *echoed*, without any phrase list:

* :func:`novelty_signals` — new vs echoed numbers, place names, capitalised names and content
  words (``NOVELTY_SIGNAL_NAMES``); added to the content model's dense signals.
* :func:`mask_echo` — the reply with every content word and number it shares with the report
  replaced by one placeholder, so the content model's n-grams see only what the reply adds.
* :func:`place_signals` — report↔reply place agreement (``PLACE_SIGNAL_NAMES``): both name places
  and share none (a reply written for another street or village), and how many of the report's
  places and names the reply takes up; added to the relevance model's pair signals.

Everything is pure Python over the truncated texts; a few microseconds per pair.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np

from lapor_triage.models.reply_signals import (
    ABBREVIATIONS,
    STOPWORDS,
    _stem,
    content_words,
    specific_tokens,
    truncate,
)

ECHO = "xgema"  # placeholder for a word the reply repeats from the report

NOVELTY_SIGNAL_NAMES: tuple[str, ...] = (
    "new_numbers",
    "echo_numbers",
    "new_places",
    "echo_places",
    "new_names",
    "echo_names",
    "new_word_share",
    "echo_word_share",
    "new_words",
)
PLACE_SIGNAL_NAMES: tuple[str, ...] = (
    "place_conflict",
    "report_places_in_reply",
    "report_names_in_reply",
    "report_has_places",
    "object_in_reply",
    "reply_object_in_report",
    "names_without_object",
)

_NUM_RE = re.compile(r"\d+")
_WORD_RE = re.compile(r"[A-Za-z0-9]+")
# A place keyword and the word naming it ("Jl. Kenanga", "RT 03", "Desa Cangkuang").
_PLACE_NAME_RE = re.compile(
    r"\b(?:jl|jln|jalan|gang|gg|rt|rw|desa|ds|kelurahan|kel|kecamatan|kec|kampung|kp|dusun|blok|"
    r"perum\w*|simpang|pasar|terminal|stasiun|jembatan|puskesmas|sekolah|sdn|smpn|sman|masjid|"
    r"taman|komplek|kompleks|perumahan)\b\.?\s*(?:raya\s+|utama\s+)?([A-Za-z0-9]+)",
    re.IGNORECASE,
)
_GENERIC_PLACE_WORDS = frozenset(
    """yang yg tersebut tsb setempat terkait dan di ke kami anda ini itu rusak berlubang raya umum
    menuju depan belakang samping dekat sekitar arah lingkungan baru utama rt rw no nomor""".split()
)


def _num(tok: str) -> str:
    return tok.lstrip("0") or "0"


@lru_cache(maxsize=8192)
def numbers(text: str) -> frozenset[str]:
    """Every number of a text, leading zeros dropped ("RT 03" and "RT 3" are the same)."""
    return frozenset(_num(m) for m in _NUM_RE.findall(text))


@lru_cache(maxsize=8192)
def places(text: str) -> frozenset[str]:
    """The words naming places after a place keyword (stemmed; numbers without leading zeros)."""
    out: set[str] = set()
    for m in _PLACE_NAME_RE.finditer(text):
        w = m.group(1).lower()
        if w not in _GENERIC_PLACE_WORDS and w not in STOPWORDS:
            out.add(_num(w) if w.isdigit() else _stem(ABBREVIATIONS.get(w, w)))
    return frozenset(out)


@lru_cache(maxsize=8192)
def _report_vocab(report: str) -> frozenset[str]:
    words = content_words(report)
    names = specific_tokens(report)
    return frozenset(words | names | places(report) | numbers(report))


def novelty_signals(report: str, reply: str) -> np.ndarray:
    """New vs echoed specific items of a reply (see ``NOVELTY_SIGNAL_NAMES``)."""
    report, reply = truncate(report), truncate(reply)
    vocab = _report_vocab(report)
    r_nums, r_places = numbers(reply), places(reply)
    r_names, r_words = specific_tokens(reply), content_words(reply)
    new_words = r_words - vocab
    n_words = max(len(r_words), 1)
    return np.array(
        [
            math.log1p(len(r_nums - vocab)),
            math.log1p(len(r_nums & vocab)),
            math.log1p(len(r_places - vocab)),
            math.log1p(len(r_places & vocab)),
            math.log1p(len(r_names - vocab)),
            math.log1p(len(r_names & vocab)),
            len(new_words) / n_words,
            len(r_words & vocab) / n_words,
            math.log1p(len(new_words)),
        ]
    )


def mask_echo(report: str, reply: str) -> str:
    """The reply with the content words and numbers it shares with the report replaced by
    ``ECHO``; function words ("sudah", "akan", "kami") and everything new are kept."""
    if not report.strip():
        return reply
    vocab = _report_vocab(truncate(report))

    def sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        low = tok.lower()
        if low.isdigit():
            return ECHO if _num(low) in vocab else tok
        low = ABBREVIATIONS.get(low, low)
        if low in STOPWORDS or len(low) <= 2:
            return tok
        return ECHO if _stem(low) in vocab else tok

    return _WORD_RE.sub(sub, reply)


@lru_cache(maxsize=8192)
def object_words(text: str) -> frozenset[str]:
    """Content words that are not place or proper names: what the text is about."""
    return content_words(text) - specific_tokens(text) - places(text)


def place_signals(report: str, reply: str) -> np.ndarray:
    """Does the reply name the report's places and take up its object (``PLACE_SIGNAL_NAMES``)?

    ``place_conflict``: both name places and the reply names none of the report's (a reply written
    for another street or village); ``names_without_object``: the reply shares the report's names
    or places but none of its object words (another service of the same puskesmas or village).
    """
    report, reply = truncate(report), truncate(reply)
    p_rep, p_rpl = places(report), places(reply)
    n_rep = specific_tokens(report)
    reply_vocab = content_words(reply) | specific_tokens(reply) | p_rpl | numbers(reply)
    conflict = float(bool(p_rep) and bool(p_rpl) and not (p_rep & (p_rpl | reply_vocab)))
    o_rep, o_rpl = object_words(report), object_words(reply)
    shared_obj = o_rep & o_rpl
    shared_names = (n_rep | p_rep) & reply_vocab
    return np.array(
        [
            conflict,
            len(p_rep & reply_vocab) / len(p_rep) if p_rep else 0.0,
            len(n_rep & reply_vocab) / len(n_rep) if n_rep else 0.0,
            float(bool(p_rep)),
            len(shared_obj) / len(o_rep) if o_rep else 0.0,
            len(shared_obj) / len(o_rpl) if o_rpl else 0.0,
            float(bool(shared_names) and not shared_obj),
        ]
    )
