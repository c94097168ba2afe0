"""Label normalisation: report types and agency names.

Report types follow SP4N-LAPOR!'s "Klasifikasi Laporan": both "Pengaduan Berkadar Pengawasan" and
"Pengaduan Tidak Berkadar Pengawasan" are one class, ``pengaduan`` (supervisory content is a
secondary attribute, kept in ``Example.meta["label_raw"]``).

Agency names come in several spellings for one agency ("Dinas Kesehatan Kab. Bandung",
"DINAS KESEHATAN KABUPATEN Bandung"). :func:`canonical_agency` maps every spelling to one display
name; :class:`AgencyNormaliser` also records which raw spellings went where, so the map can be
saved as JSON beside a model.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

REPORT_TYPES: tuple[str, ...] = ("pengaduan", "aspirasi", "permintaan_informasi")


class UnknownLabelError(ValueError):
    """A label value that is not empty but is not one of the known classes."""

    def __init__(self, value: object, allowed: Iterable[str]) -> None:
        self.value = value
        self.allowed = tuple(allowed)
        super().__init__(f"unknown label {value!r} (expected one of: {', '.join(self.allowed)})")


# --------------------------------------------------------------------------- report type ---

_SPACE_RE = re.compile(r"[\s_\-/]+")

_REPORT_TYPE_ALIASES: dict[str, str] = {
    "pengaduan": "pengaduan",
    "pengaduan berkadar pengawasan": "pengaduan",
    "pengaduan tidak berkadar pengawasan": "pengaduan",
    "pengaduan non berkadar pengawasan": "pengaduan",
    "aspirasi": "aspirasi",
    "permintaan informasi": "permintaan_informasi",
    "permohonan informasi": "permintaan_informasi",
    "permintaan informasi publik": "permintaan_informasi",
    "permohonan informasi publik": "permintaan_informasi",
}


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    s = str(value).strip()
    return s == "" or s.lower() in {"nan", "none", "null", "-"}


def normalise_report_type(value: object) -> str | None:
    """Map a raw "Klasifikasi Laporan" value to one of :data:`REPORT_TYPES`.

    Case, spaces, underscores and hyphens are ignored. An empty value returns ``None`` (the label
    is missing: LAPOR! leaves it empty for reports closed by the admin). Any other value raises
    :class:`UnknownLabelError`.
    """
    if _is_missing(value):
        return None
    key = _SPACE_RE.sub(" ", str(value).strip().lower()).strip(" .")
    try:
        return _REPORT_TYPE_ALIASES[key]
    except KeyError:
        raise UnknownLabelError(value, REPORT_TYPES) from None


# -------------------------------------------------------------------------------- agency ---

# Abbreviations expanded to the words LAPOR! uses in full (matched on whole lower-case tokens,
# after punctuation has been separated).
_ABBREVIATIONS: dict[str, str] = {
    "kab": "kabupaten",
    "kab.": "kabupaten",
    "kec": "kecamatan",
    "kec.": "kecamatan",
    "kel": "kelurahan",
    "kel.": "kelurahan",
    "prov": "provinsi",
    "prov.": "provinsi",
    "pemkab": "pemerintah kabupaten",
    "pemkot": "pemerintah kota",
    "pemprov": "pemerintah provinsi",
    "dinkes": "dinas kesehatan",
    "dishub": "dinas perhubungan",
    "dinsos": "dinas sosial",
    "disdik": "dinas pendidikan",
    "disdukcapil": "dinas kependudukan dan pencatatan sipil",
    "satpol": "satuan polisi",
    # The same office under its acronyms (both occur in LAPOR! exports).
    "daldukppa": "dinas pengendalian penduduk keluarga berencana pemberdayaan perempuan dan "
    "perlindungan anak",
    "dp2kbp3a": "dinas pengendalian penduduk keluarga berencana pemberdayaan perempuan dan "
    "perlindungan anak",
    "pp": "pamong praja",
    "&": "dan",
}

# Tokens written in capitals in a display name.
_ACRONYMS = frozenset(
    """
    bpjs bpbd bpn bkd bkpsdm bumd bumn dprd dpmptsp dpupr pupr pdam rsud
    rsia rs upt uptd smp sma smk sd tk paud mts umkm ukm kb ri tni polri pln pt kc kcp pu
    esdm atr ojk ppid rt rw dp2kbp3a daldukppa bkkbn kua kpu bawaslu lpse dpkp dlh dkpp
    dki ham cpns pns asn bkn bpnt kpk bnn bpom bps lkpp dpr mpr
    """.split()
)
# Words kept in lower case inside a display name.
_SMALL_WORDS = frozenset({"dan", "di", "ke", "dari", "untuk", "serta", "atau", "pada", "yang"})
_HONORIFICS = {"dr": "dr.", "drs": "Drs.", "ir": "Ir.", "hj": "Hj."}
# Roman numerals as used in names ("Kodim 0624 ... II", "UPT Puskesmas Soreang I").
_ROMAN_RE = re.compile(r"^(?:x{0,2})(?:ix|iv|v?i{0,3})$")

# Punctuation separating words (commas, dots, quotes, ...) becomes a space; "/", "-" and
# parentheses are kept with their spacing normalised.
_DROP_PUNCT_RE = re.compile(r"[,.;:!?\"'`’‘“”|*_]+")
_SLASH_RE = re.compile(r"\s*/\s*")
_HYPHEN_RE = re.compile(r"\s*[-–—]\s*")
_OPEN_PAREN_RE = re.compile(r"\(\s*")
_CLOSE_PAREN_RE = re.compile(r"\s*\)")
_TOKEN_SPLIT_RE = re.compile(r"\s+")
# Abbreviations with a dot ("Kab.", "Kec.") glued to the next word ("Kab.Bandung").
_DOTTED_ABBREV_RE = re.compile(r"\b(kab|kec|kel|prov)\.(?=\S)", re.IGNORECASE)
# "Inspektorat" is "Inspektorat Daerah" in local government; both spellings occur.
_INSPEKTORAT_RE = re.compile(r"^inspektorat (?!daerah\b|jenderal\b|utama\b)")


def _case_word(word: str, first: bool) -> str:
    if not word:
        return word
    if word in _ACRONYMS or _ROMAN_RE.match(word) or any(ch.isdigit() for ch in word):
        return word.upper()
    if word in _HONORIFICS:
        return _HONORIFICS[word]
    if word in _SMALL_WORDS and not first:
        return word
    if not any(ch in "aeiouy" for ch in word) and len(word) >= 2 and word.isalpha():
        return word.upper()  # "dpmptsp", "bkpsdm": no vowels, an acronym
    return word[0].upper() + word[1:]


def _case_token(token: str, first: bool) -> str:
    # Title-case each part of "barang/jasa", "wonorejo-rungkut", "(esdm)".
    parts = re.split(r"([/\-()])", token)
    out, seen_word = [], False
    for part in parts:
        if part in {"/", "-", "(", ")"} or not part:
            out.append(part)
            continue
        out.append(_case_word(part, first and not seen_word))
        seen_word = True
    return "".join(out)


def agency_key(name: object) -> str:
    """Lower-case normalised form of an agency name (used to decide which spellings are one)."""
    if _is_missing(name):
        return ""
    s = unicodedata.normalize("NFKC", str(name)).replace("\u00a0", " ")
    s = _DOTTED_ABBREV_RE.sub(r"\1. ", s).lower()
    tokens = []
    for tok in _TOKEN_SPLIT_RE.split(s.strip()):
        expanded = _ABBREVIATIONS.get(tok) or _ABBREVIATIONS.get(tok.rstrip(".,"))
        tokens.append(expanded if expanded else tok)
    s = " ".join(tokens)
    s = s.replace("&", " dan ")
    s = _DROP_PUNCT_RE.sub(" ", s)
    s = _SLASH_RE.sub("/", s)
    s = _HYPHEN_RE.sub("-", s)
    s = _OPEN_PAREN_RE.sub("(", s)
    s = _CLOSE_PAREN_RE.sub(")", s)
    s = re.sub(r"\s*\(\s*\)\s*", " ", s)
    s = " ".join(s.split()).strip(" -/")
    # Re-run expansion for abbreviations that only became whole tokens after punctuation went.
    s = " ".join(_ABBREVIATIONS.get(t, t) for t in s.split())
    s = re.sub(r"\bsatuan polisi pamong praja pamong praja\b", "satuan polisi pamong praja", s)
    s = re.sub(r"\bolah raga\b", "olahraga", s)
    s = _INSPEKTORAT_RE.sub("inspektorat daerah ", s)
    return s


def canonical_agency(name: object) -> str:
    """One display name for every spelling of an agency.

    Expands "Kab."/"Kab"/"Kec."/"Kel."/"Pemkab"/... abbreviations, ignores case, whitespace and
    punctuation (commas, dots, quotes), writes known acronyms in capitals and the rest in title
    case with Indonesian small words ("dan", "serta", ...) in lower case::

        >>> canonical_agency("DINAS KESEHATAN KABUPATEN Bandung")
        'Dinas Kesehatan Kabupaten Bandung'
        >>> canonical_agency("Dinas Kesehatan Kab. Bandung")
        'Dinas Kesehatan Kabupaten Bandung'

    Returns ``""`` for an empty value.
    """
    key = agency_key(name)
    if not key:
        return ""
    return " ".join(_case_token(tok, i == 0) for i, tok in enumerate(key.split(" ")))


_PEMERINTAH_RE = re.compile(r"^pemerintah\s+((?:kabupaten|kota|provinsi)\s+.+)$", re.IGNORECASE)


def penerima_region(penerima: object) -> str | None:
    """The region of a regional government named as a LAPOR! ``penerima``, canonical:
    ``"Pemerintah Kabupaten Bandung"`` -> ``"Kabupaten Bandung"``; None for any other instansi."""
    m = _PEMERINTAH_RE.match(str(penerima or "").strip())
    return canonical_agency(m.group(1)) if m else None


class AgencyNormaliser:
    """Maps raw agency names to canonical names and remembers every mapping it made.

    ``aliases`` maps extra spellings (any form; compared by :func:`agency_key`) to the canonical
    name they stand for, e.g. ``{"DALDUKPPA Kab. Bandung": "Dinas Pengendalian Penduduk ..."}``.
    The map of raw to canonical names (with counts) is saved as JSON beside a model.
    """

    def __init__(self, aliases: Mapping[str, str] | None = None) -> None:
        self.aliases = dict(aliases or {})
        self._alias_keys = {agency_key(k): canonical_agency(v) for k, v in self.aliases.items()}
        self.mapping_: dict[str, str] = {}
        self.counts_: Counter[str] = Counter()

    def __call__(self, name: object) -> str:
        if _is_missing(name):
            return ""
        raw = str(name).strip()
        canonical = self.mapping_.get(raw)
        if canonical is None:
            canonical = self._alias_keys.get(agency_key(raw)) or canonical_agency(raw)
            self.mapping_[raw] = canonical
        self.counts_[raw] += 1
        return canonical

    def fit(self, names: Iterable[object]) -> AgencyNormaliser:
        for name in names:
            self(name)
        return self

    @classmethod
    def from_examples(cls, examples: Iterable[Any], **kwargs: Any) -> AgencyNormaliser:
        """The map for loaded agency examples (their raw names are in ``meta["label_raw"]``).

        An example's own label wins over a fresh normalisation of its raw name: the loader may
        have merged names further (see ``training.data.unify_regional_names``)."""
        self = cls(**kwargs)
        for ex in examples:
            raw = getattr(ex, "meta", {}).get("label_raw")
            if not _is_missing(raw):
                label = getattr(ex, "label", None)
                if label:
                    self.mapping_[str(raw).strip()] = str(label)
                self(raw)
        return self

    @property
    def variants(self) -> dict[str, list[str]]:
        """Canonical name -> raw spellings seen for it (sorted)."""
        out: dict[str, list[str]] = defaultdict(list)
        for raw, canonical in self.mapping_.items():
            out[canonical].append(raw)
        return {k: sorted(v) for k, v in sorted(out.items())}

    @property
    def n_raw(self) -> int:
        return len(self.mapping_)

    @property
    def n_canonical(self) -> int:
        return len(set(self.mapping_.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "mapping": dict(sorted(self.mapping_.items())),
            "counts": dict(sorted(self.counts_.items())),
            "aliases": self.aliases,
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgencyNormaliser:
        self = cls(aliases=data.get("aliases") or {})
        self.mapping_ = dict(data.get("mapping") or {})
        self.counts_ = Counter(data.get("counts") or {})
        return self

    @classmethod
    def load(cls, path: str | Path) -> AgencyNormaliser:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
