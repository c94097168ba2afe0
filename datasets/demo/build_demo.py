"""Build the synthetic demo dataset of lapor-triage (deterministic, seeded).

Every text is composed from hand-written pieces in ``datasets/demo/pieces/`` that were written for
this project: nothing is copied from real reports. The city ("Kota Contoh"), its districts, streets,
agencies and all personal data are fictional.

Outputs (beside this script):

* ``reports.csv``   - a SP4N-LAPOR! "Laporan Ringkas" export (10 preamble rows, header on row 11)
* ``replies.jsonl`` - follow-up replies labelled normatif / substantif with reason codes
* ``feedback.jsonl`` - example admin feedback rows as the service exports them

Run from the project root::

    python datasets/demo/build_demo.py            # writes the three files
    python datasets/demo/build_demo.py --check    # also prints counts and a near-duplicate check
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lapor_triage.lapor_export import LAPOR_EXPORT_HEADER

HERE = Path(__file__).resolve().parent
PIECES = HERE / "pieces"
SEED = 20240601

CITY = "Kota Contoh"
PROVINCE = "Provinsi Contoh"
HEADER = list(LAPOR_EXPORT_HEADER)
TYPE_LABEL = {"C": "pengaduan", "A": "aspirasi", "Q": "permintaan_informasi"}
MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
MONTHS_ID = (
    "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember".split()
)
DAYS_ID = "Senin Selasa Rabu Kamis Jumat Sabtu Minggu".split()

NORMATIF_CODES = (
    "ucapan_terima_kasih_saja",
    "janji_tanpa_rincian",
    "diteruskan_tanpa_hasil",
    "sudah_ditindaklanjuti_tanpa_isi",
    "aturan_umum",
    "arahan_umum",
    "tidak_relevan",
)
SUBSTANTIF_CODES = (
    "tindakan_konkret",
    "jadwal",
    "hasil_verifikasi",
    "informasi_diminta",
    "keputusan_beralasan",
    "permintaan_data_spesifik",
)


# --------------------------------------------------------------------------------------------
# Pieces: a small line format, see pieces/README.md
# --------------------------------------------------------------------------------------------


@dataclass
class Topic:
    kind: str  # C (pengaduan), A (aspirasi), Q (permintaan informasi)
    kat_id: str
    kat_name: str
    fields: dict[str, list[str]] = field(default_factory=dict)

    def get(self, key: str) -> list[str]:
        return self.fields.get(key, [])


@dataclass
class Agency:
    name: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    topics: list[Topic] = field(default_factory=list)

    def one(self, key: str, default: str = "") -> str:
        values = self.fields.get(key)
        return values[0] if values else default

    def get(self, key: str) -> list[str]:
        return self.fields.get(key, [])

    def of_kind(self, kind: str) -> list[Topic]:
        return [t for t in self.topics if t.kind == kind]


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(" | ") if v.strip()]


def parse_agencies(text: str, source: str) -> list[Agency]:
    """Parse an agency pieces file (format documented in pieces/README.md)."""
    agencies: list[Agency] = []
    topic: Topic | None = None
    base: Topic | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("== "):
            agencies.append(Agency(name=line[3:].strip()))
            topic = base = None
            continue
        if not agencies:
            raise ValueError(f"{source}:{lineno}: text before the first '== Agency' line")
        agency = agencies[-1]
        if line.startswith("-- "):
            parts = line[3:].split(" ", 2)
            if len(parts) != 3 or parts[0] not in TYPE_LABEL:
                raise ValueError(f"{source}:{lineno}: expected '-- C|A|Q <id> <kategori>'")
            topic = base = Topic(kind=parts[0], kat_id=parts[1], kat_name=parts[2])
            agency.topics.append(topic)
            continue
        if line == "+":  # a sub-issue: inherits the keys given before its first "+"
            if base is None:
                raise ValueError(f"{source}:{lineno}: '+' outside a topic")
            agency.topics = [t for t in agency.topics if t is not base]
            topic = Topic(
                kind=base.kind,
                kat_id=base.kat_id,
                kat_name=base.kat_name,
                fields={k: list(v) for k, v in base.fields.items()},
            )
            agency.topics.append(topic)
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{source}:{lineno}: expected 'key: value', got {line[:40]!r}")
        target = topic.fields if topic is not None else agency.fields
        target.setdefault(key.strip(), []).extend(_split(value))
    return agencies


def parse_pools(text: str, source: str) -> dict[str, list[str]]:
    """Parse a pools file: ``[name]`` section headers followed by one item per line."""
    pools: dict[str, list[str]] = {}
    current: list[str] | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = pools.setdefault(line[1:-1], [])
            continue
        if current is None:
            raise ValueError(f"{source}:{lineno}: item before the first [section]")
        current.append("" if line == "-" else line)
    return pools


def load_pieces() -> tuple[list[Agency], dict[str, list[str]]]:
    agencies: list[Agency] = []
    for path in sorted(PIECES.glob("agencies_*.txt")):
        agencies.extend(parse_agencies(path.read_text(encoding="utf-8"), path.name))
    for agency in agencies:
        for key in ("id", "unit", "rule"):
            if not agency.get(key):
                raise ValueError(f"{agency.name}: missing '{key}:' in the pieces")
        for topic in agency.topics:
            for key in ("t", "f"):
                if not topic.get(key):
                    raise ValueError(f"{agency.name} / {topic.kat_name}: a topic without '{key}:'")
    pools: dict[str, list[str]] = {}
    for path in sorted(PIECES.glob("pools_*.txt")):
        for key, values in parse_pools(path.read_text(encoding="utf-8"), path.name).items():
            pools.setdefault(key, []).extend(values)
    return agencies, pools


# --------------------------------------------------------------------------------------------
# Slots: places, numbers and dates filled into the pieces (fictional city)
# --------------------------------------------------------------------------------------------

KECAMATAN = {
    "Sukamaju": ["Sukamaju", "Sukaresmi", "Cempaka Baru"],
    "Tanjung Harapan": ["Tanjung Harapan", "Teluk Damai", "Pelita"],
    "Karang Anyar": ["Karang Anyar", "Karang Tengah", "Sidomulyo"],
    "Bukit Indah": ["Bukit Indah", "Gunung Sari", "Lembah Hijau"],
    "Sungai Jernih": ["Sungai Jernih", "Muara Baru", "Tepian Asri"],
    "Mekar Jaya": ["Mekar Jaya", "Margasari", "Sindangsari"],
    "Pasir Putih": ["Pasir Putih", "Pantai Indah", "Kampung Baru"],
}
STREETS = (
    "Jl. Melati, Jl. Flamboyan, Jl. Cendana, Jl. Merdeka, Jl. Pahlawan, Jl. Veteran, "
    "Jl. Diponegoro, Jl. Kartini, Jl. Ahmad Yani, Jl. Gatot Subroto, Jl. Kenanga, Jl. Anggrek, "
    "Jl. Rambutan, Jl. Nusantara, Jl. Pramuka, Jl. Teratai, Jl. Sawo, Jl. Beringin, Jl. Kemuning, "
    "Jl. Bhayangkara, Jl. Cut Nyak Dien, Jl. Imam Bonjol, Jl. Lingkar Timur, Jl. Cemara, "
    "Jl. Kelapa Gading, Jl. Padat Karya, Jl. Pemuda, Jl. Siliwangi, Jl. Dahlia, Jl. Jati"
).split(", ")
GANGS = "Gg. Mawar, Gg. Manggis, Gg. Damai, Gg. Sepakat, Gg. Keluarga, Gg. Rukun, Gg. Harapan, Gg. Kenari".split(
    ", "
)
LANDMARKS = [
    "dekat Masjid Al-Ikhlas",
    "depan minimarket",
    "samping pos ronda",
    "seberang Masjid Nurul Huda",
    "dekat jembatan kecil",
    "di pertigaan lampu merah",
    "dekat lapangan sepak bola",
    "belakang pasar",
    "depan gereja",
    "dekat tugu perbatasan",
    "sebelah bengkel las",
    "depan kantor kelurahan",
    "dekat pangkalan ojek",
    "samping SPBU",
]
LANDMARKS_I = [
    "deket masjid",
    "dpn alfamart",
    "sblh pos ronda",
    "deket jembatan",
    "pas di tikungan",
    "deket lapangan",
    "blkg pasar",
    "dpn warung bakso",
    "deket bengkel",
    "arah ke kuburan",
]
SD = ["SD Negeri 4", "SD Negeri 12", "SD Negeri 17", "SD Negeri 23", "SD Negeri 31", "SD Negeri 8"]
SMP = ["SMP Negeri 2", "SMP Negeri 5", "SMP Negeri 8", "SMP Negeri 11", "SMP Negeri 14"]
PASAR = [
    "Pasar Sentral",
    "Pasar Pagi Tepian",
    "Pasar Induk Karang Anyar",
    "Pasar Segiri Baru",
    "Pasar Mekar Jaya",
    "Pasar Ikan Pantai Indah",
]
TAMAN = ["Taman Kota Bukit Indah", "Alun-alun Kota Contoh", "Taman Tepian", "Taman Cempaka"]
RUANG = [
    "IGD",
    "Poli Penyakit Dalam",
    "Poli Anak",
    "ruang rawat inap kelas III",
    "apotek rawat jalan",
    "loket pendaftaran",
    "Poli Gigi",
    "ruang bersalin",
]
PERUMAHAN = [
    "Perumahan Griya Asri",
    "Perum Bumi Contoh Permai",
    "Perumahan Villa Mutiara",
    "Perumahan Taman Sari Indah",
    "Perum Korpri Blok C",
]
SUNGAI = ["Sungai Bening", "Sungai Tempayan", "Sungai Batu Ampar", "kali Cempaka"]
PERUSAHAAN = [
    "PT Sinar Contoh Abadi",
    "CV Maju Bersama",
    "PT Karya Logistik Nusantara",
    "PT Tepian Jaya Garmen",
    "CV Berkah Mandiri Sejahtera",
    "PT Mekar Retail Indonesia",
]
USAHA = ["kafe", "rumah makan", "tempat karaoke", "bengkel", "toko bangunan", "warung kopi"]
DURASI = [
    "dua minggu",
    "sebulan lebih",
    "tiga bulan",
    "hampir setahun",
    "lima hari",
    "setengah tahun",
    "dua bulan",
]
DURASI_I = ["udh 2 minggu", "udh sebulanan", "dr 3 bulan lalu", "hampir setaun", "seminggu lebih"]
JAM = ["pukul 22.00", "pukul 06.30", "pukul 23.30", "pukul 17.00", "pukul 02.00", "pukul 09.00"]


def indo_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"


class Slots(dict):
    """Lazily filled, per-report consistent slot values for ``str.format_map``."""

    def __init__(self, rng: random.Random, date: dt.date, agency: Agency, kec: str | None = None):
        super().__init__()
        self.rng = rng
        self.date = date
        self.agency = agency
        self.kec = kec or rng.choice(sorted(KECAMATAN))
        self.kel = rng.choice(KECAMATAN[self.kec])
        self.used_location = False
        self.register = "formal"

    def __missing__(self, key: str) -> str:
        rng = self.rng
        value: str
        if key == "kec":
            value = self.kec
        elif key == "kel":
            value = self.kel
        elif key == "jalan":
            value = rng.choice(STREETS)
        elif key == "gang":
            value = rng.choice(GANGS)
        elif key == "rt":
            value = f"{rng.randint(1, 24):02d}"
        elif key == "rw":
            value = f"{rng.randint(1, 12):02d}"
        elif key == "patokan":
            value = rng.choice(LANDMARKS)
        elif key == "patokan_i":
            value = rng.choice(LANDMARKS_I)
        elif key == "lokasi":
            value = rng.choice(
                [
                    "{jalan} RT {rt}/RW {rw}, Kelurahan {kel}, Kecamatan {kec}",
                    "{jalan} {patokan}, Kelurahan {kel}",
                    "{gang}, {jalan}, Kel. {kel}, Kec. {kec}",
                    "{jalan} {patokan} (Kecamatan {kec})",
                    "ruas {jalan} di wilayah Kelurahan {kel}",
                ]
            ).format_map(self)
        elif key == "lokasi_i":
            value = rng.choice(
                [
                    "{jalan} {patokan_i}",
                    "{gang} {jalan} kel {kel}",
                    "daerah {kel} {patokan_i}",
                    "{jalan} rt {rt}",
                ]
            ).format_map(self)
        elif key == "puskesmas":
            value = rng.choice([f"Puskesmas {self.kec}", f"Puskesmas Pembantu {self.kel}"])
        elif key == "sd":
            value = rng.choice(SD)
        elif key == "smp":
            value = rng.choice(SMP)
        elif key == "sekolah":
            value = rng.choice(SD + SMP)
        elif key == "pasar":
            value = rng.choice(PASAR)
        elif key == "taman":
            value = rng.choice(TAMAN)
        elif key == "ruang":
            value = rng.choice(RUANG)
        elif key == "perumahan":
            value = rng.choice(PERUMAHAN)
        elif key == "sungai":
            value = rng.choice(SUNGAI)
        elif key == "perusahaan":
            value = rng.choice(PERUSAHAAN)
        elif key == "usaha":
            value = rng.choice(USAHA)
        elif key == "durasi":
            value = rng.choice(DURASI)
        elif key == "durasi_i":
            value = rng.choice(DURASI_I)
        elif key == "jam":
            value = rng.choice(JAM)
        elif key == "hari":
            value = rng.choice(DAYS_ID)
        elif key == "n":
            value = str(rng.randint(2, 9))
        elif key == "n2":
            value = str(rng.randint(10, 60))
        elif key == "n3":
            value = str(rng.randint(100, 900))
        elif key == "bulan":
            value = MONTHS_ID[self.date.month - 1]
        elif key == "tahun":
            value = str(self.date.year)
        elif key == "tgl":  # a date a few days after the report (replies)
            value = indo_date(self.date + dt.timedelta(days=rng.randint(2, 9)))
        elif key == "tgl2":  # a date some weeks after the report (schedules)
            value = indo_date(self.date + dt.timedelta(days=rng.randint(12, 40)))
        elif key == "unit":
            value = rng.choice(self.agency.get("unit") or [self.agency.name])
        elif key == "instansi":
            value = self.agency.name
        elif key == "singkat":
            value = rng.choice(self.agency.get("short") or [self.agency.name])
        else:
            raise KeyError(f"unknown slot {{{key}}} in the pieces")
        if key in ("jalan", "gang", "lokasi", "lokasi_i", "patokan", "patokan_i", "kel", "kec"):
            self.used_location = True
        self[key] = value
        return value


def fill(template: str, slots: Slots) -> str:
    return template.format_map(slots)


# --------------------------------------------------------------------------------------------
# Register: informal spelling, typos, capitalisation
# --------------------------------------------------------------------------------------------

INFORMAL_SUBS = [
    (r"\byang\b", ["yg"]),
    (r"\btidak\b", ["tdk", "gak", "ga", "nggak"]),
    (r"\bsudah\b", ["udh", "sdh", "udah"]),
    (r"\bbagaimana\b", ["gmn", "gimana"]),
    (r"\bdengan\b", ["dgn", "dg"]),
    (r"\buntuk\b", ["utk", "buat"]),
    (r"\bkarena\b", ["krn", "karna"]),
    (r"\bsampai\b", ["sampe", "smp"]),
    (r"\bbelum\b", ["blm"]),
    (r"\bsaja\b", ["aja"]),
    (r"\bsaya\b", ["sy", "aku"]),
    (r"\bterima kasih\b", ["makasih", "trims", "terimakasih"]),
    (r"\bbagaimana\b", ["gmn"]),
    (r"\bjuga\b", ["jg"]),
    (r"\bsekarang\b", ["skrg"]),
    (r"\bdari\b", ["dr"]),
    (r"\bpada\b", ["pd"]),
    (r"\bsangat\b", ["bgt", "sangat2"]),
]
EXPAND = {
    "yg": "yang",
    "tdk": "tidak",
    "gak": "tidak",
    "ga": "tidak",
    "nggak": "tidak",
    "udh": "sudah",
    "sdh": "sudah",
    "udah": "sudah",
    "gmn": "bagaimana",
    "gimana": "bagaimana",
    "dgn": "dengan",
    "dg": "dengan",
    "utk": "untuk",
    "krn": "karena",
    "karna": "karena",
    "sampe": "sampai",
    "blm": "belum",
    "aja": "saja",
    "sy": "saya",
    "jg": "juga",
    "skrg": "sekarang",
    "dr": "dari",
    "pd": "pada",
    "bgt": "sekali",
    "min": "admin",
    "dpn": "depan",
    "deket": "dekat",
    "tp": "tapi",
    "jd": "jadi",
    "kmrn": "kemarin",
    "bln": "bulan",
    "thn": "tahun",
    "sblh": "sebelah",
    "blkg": "belakang",
}


def informalize(text: str, rng: random.Random, strength: float) -> str:
    for pattern, options in INFORMAL_SUBS:
        if rng.random() < strength:
            text = re.sub(pattern, lambda _m, o=options: rng.choice(o), text, flags=re.IGNORECASE)
    if rng.random() < 0.25:
        text = add_typo(text, rng)
    if rng.random() < 0.45:
        text = text.lower()
    if rng.random() < 0.15:
        text = text.rstrip(".") + rng.choice(["!!", "!!!", " ..", "??", " 🙏", " 😡"])
    return text


def add_typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if w.isalpha() and len(w) > 5]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    if rng.random() < 0.5:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]  # swap two letters
    else:
        w = w[:j] + w[j] + w[j:]  # double a letter
    words[i] = w
    return " ".join(words)


def admin_edit(text: str) -> str:
    """What an admin does to 'Isi Laporan Akhir': spell out chat abbreviations, mask PII."""
    from lapor_triage.text import mask_pii

    def expand(match: re.Match[str]) -> str:
        word = match.group(0)
        return EXPAND.get(word.lower(), word)

    text = re.sub(r"\b[A-Za-z]+\b", expand, text)
    text = re.sub(r"\s+", " ", text).strip()
    text = text[:1].upper() + text[1:]
    return mask_pii(text)


def capitalise(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.?!])", r"\1", text)
    return text[:1].upper() + text[1:]


def title_case(title: str, rng: random.Random) -> str:
    if rng.random() < 0.55:
        return " ".join(w[:1].upper() + w[1:] for w in title.split(" "))
    return title[:1].upper() + title[1:]


# --------------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------------


@dataclass
class Report:
    tracking_id: str
    date: dt.date
    time: str
    kind: str
    klasifikasi: str
    agency: Agency
    topic: Topic
    judul: str
    isi: str
    isi_akhir: str
    slots: Slots
    register: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def report_type(self) -> str:
        """The type label of the export (from Klasifikasi, as the loader normalises it)."""
        if self.klasifikasi.startswith("Pengaduan"):
            return "pengaduan"
        return {"Aspirasi": "aspirasi", "Permintaan Informasi": "permintaan_informasi"}[
            self.klasifikasi
        ]


PLACE_SLOTS = (
    "{jalan",
    "{gang",
    "{lokasi",
    "{patokan",
    "{kel}",
    "{perumahan}",
    "{sungai}",
    "{taman}",
)


def names_place(template: str) -> bool:
    """Whether a piece is about a place in the neighbourhood (street, river, estate, park)."""
    return any(slot in template for slot in PLACE_SLOTS)


def compose_report(
    agency: Agency,
    topic: Topic,
    rng: random.Random,
    pools: dict[str, list[str]],
    date: dt.date,
) -> tuple[str, str, Slots, str]:
    """Compose (judul, isi, slots, core) for one report of ``topic``; ``core`` is the piece
    that states the matter (its register is ``slots.register``)."""
    slots = Slots(rng, date, agency, kec=agency.one("kecamatan") or None)
    formal = rng.random() < 0.55 if topic.get("i") else True
    register = "formal" if formal else "informal"
    slots.register = register
    kind = topic.kind
    pick = rng.choice

    def pool(name: str) -> str:
        return fill(pick(pools[name]), slots)

    parts: list[str] = []
    if formal:
        if rng.random() < 0.22:
            parts.append(f"Yth. {agency.name},")
        elif rng.random() < 0.1:
            parts.append(
                pick(["Kepada Yth. Bapak Wali Kota Contoh,", "Yth. Bapak/Ibu Admin LAPOR,"])
            )
        parts.append(pool("open_any_f" if rng.random() < 0.35 else f"open_{kind}_f"))
        if kind == "A" and rng.random() < 0.3:
            # an aspiration often starts from a complaint about the same agency's domain
            complaint = pick(agency.of_kind("C"))
            parts.append(fill(pick(complaint.get("f")), slots))
            parts.append(pool("context_A_f"))
        if kind == "Q" and rng.random() < 0.25:
            parts.append(pool("context_Q_f"))
        core = pick(topic.get("f"))
        parts.append(fill(core, slots))
        details = topic.get("d")
        if details and rng.random() < 0.75:
            parts.append(fill(pick(details), slots))
        if len(details) > 1 and rng.random() < 0.25:
            second = fill(pick(details), slots)
            if second not in parts:
                parts.append(second)
        place = "_place" if names_place(core) and rng.random() < 0.5 else ""
        if kind == "C":
            if rng.random() < 0.55:
                parts.append(pool(f"duration{place}_f"))
            if rng.random() < 0.5:
                parts.append(pool(f"impact{place}_f"))
            if rng.random() < 0.2:
                parts.append(pool("ask_C_f"))
        elif kind == "A" and rng.random() < 0.6:
            parts.append(pool("benefit_f"))
        parts.append(pool("close_any_f" if rng.random() < 0.3 else f"close_{kind}_f"))
        text = " ".join(p for p in parts if p)
        text = capitalise(text)
    else:
        if agency.get("short") and rng.random() < 0.3:
            parts.append(
                fill(
                    pick(
                        ["{singkat} tolong", "buat {singkat},", "lapor {singkat}", "halo {singkat}"]
                    ),
                    slots,
                )
            )
        parts.append(pool("open_any_i" if rng.random() < 0.35 else f"open_{kind}_i"))
        core = pick(topic.get("i"))
        parts.append(fill(core, slots))
        details = topic.get("d")
        if details and rng.random() < 0.35:
            parts.append(fill(pick(details), slots).lower())
        place = "_place" if names_place(core) and rng.random() < 0.5 else ""
        if kind == "C":
            if rng.random() < 0.45:
                parts.append(pool(f"duration{place}_i"))
            if rng.random() < 0.45:
                parts.append(pool(f"impact{place}_i"))
            if rng.random() < 0.2:
                parts.append(pool("ask_C_i"))
        parts.append(pool("close_any_i" if rng.random() < 0.3 else f"close_{kind}_i"))
        text = " ".join(p for p in parts if p)
        text = re.sub(r"\s+", " ", text).strip()
        text = informalize(text, rng, strength=rng.choice([0.3, 0.6, 0.9]))
    judul = fill(pick(topic.get("t")), slots)
    judul = title_case(judul, rng) if formal or rng.random() < 0.5 else judul.lower()
    return judul, text, slots, core


def add_pii(text: str, rng: random.Random, counter: Counter[str]) -> str:
    """Append masked placeholders or (rarely) raw fake personal data, to exercise masking."""
    r = rng.random()
    if r < 0.05:
        counter["masked_phone"] += 1
        return (
            text + " " + rng.choice(["No. HP yang bisa dihubungi: [TELEPON].", "wa sy [TELEPON]"])
        )
    if r < 0.08:
        counter["masked_nik"] += 1
        return text + " " + rng.choice(["NIK pelapor [NIK].", "Sebagai data, NIK saya [NIK]."])
    if r < 0.095:
        counter["masked_email"] += 1
        return text + " Balasan bisa dikirim ke [EMAIL]."
    if r < 0.11:
        counter["raw_phone"] += 1
        number = f"0812-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        return text + f" Kontak saya {number} (fiktif, contoh data)."
    if r < 0.12:
        counter["raw_email"] += 1
        return (
            text + " Email: " + rng.choice(["warga.contoh@example.com", "pelapor.demo@example.org"])
        )
    if r < 0.125:
        counter["raw_nik"] += 1
        return text + f" NIK 9999{rng.randint(10**11, 10**12 - 1)} (fiktif)."
    return text


KLAS = {
    "A": "Aspirasi",
    "Q": "Permintaan Informasi",
}
STATUS = [
    ("Ditutup oleh Sistem", 40),
    ("Selesai", 20),
    ("Proses", 12),
    ("Menunggu Kelengkapan Informasi", 8),
    ("Ditutup oleh Pelapor", 8),
    ("Ditutup oleh Admin", 6),
    ("Diarsipkan oleh Admin", 4),
    ("Diarsipkan oleh Sistem", 2),
]
ALASAN = {
    "Diarsipkan oleh Admin": "Laporan ini diarsipkan sesuai dengan keinginan Pelapor",
    "Diarsipkan oleh Sistem": "Laporan diarsipkan karena sudah mencapai batas kadaluarsa pengaduan. ",
    "Menunggu Kelengkapan Informasi": "Mohon lengkapi lokasi kejadian dan bukti dukung berupa foto",
}
TIPE = [("Anonim", 35), ("Anonim|Rahasia", 20), ("Rahasia", 15), ("", 30)]
SUMBER = [
    ("Website", 50),
    ("Android", 28),
    ("Website - pemerintah-kota-contoh", 14),
    ("SMS 1708", 4),
    ("iOS", 4),
]


def weighted(rng: random.Random, options: list[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def plan_reports(agencies: list[Agency], rng: random.Random) -> list[tuple[Agency, Topic]]:
    """Which topic each report is about: per agency ``n_C`` / ``n_A`` / ``n_Q`` reports."""
    plan: list[tuple[Agency, Topic]] = []
    for agency in agencies:
        for kind, default in (("C", 17), ("A", 4), ("Q", 4)):
            topics = agency.of_kind(kind)
            n = int(agency.one(f"n_{kind}", str(default)))
            if not topics:
                raise ValueError(f"{agency.name}: no topics of kind {kind}")
            order = topics[:]
            rng.shuffle(order)
            for i in range(n):
                plan.append((agency, order[i % len(order)]))
    return plan


MAX_JACCARD = 0.5
ATTEMPTS = 60
# Offices do not apply Klasifikasi uniformly (in the real Samarinda export about a quarter of the
# reports are "Aspirasi", many of them plain complaints). The demo copies that habit on a small
# scale so that the type task is not trivially separable: a few complaints are filed as Aspirasi
# and a few information requests as complaints.
RELABEL = {"C": ("Aspirasi", 0.04), "Q": ("Pengaduan Tidak Berkadar Pengawasan", 0.04)}


def klasifikasi(kind: str, rng: random.Random) -> str:
    """The 'Klasifikasi Laporan' an admin gave a report of ``kind``."""
    if kind in RELABEL and rng.random() < RELABEL[kind][1]:
        return RELABEL[kind][0]
    if kind == "C":
        if rng.random() < 0.8:
            return "Pengaduan Berkadar Pengawasan"
        return "Pengaduan Tidak Berkadar Pengawasan"
    return KLAS[kind]


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a | b))


def build_reports(
    agencies: list[Agency], pools: dict[str, list[str]], rng: random.Random
) -> tuple[list[Report], Counter[str]]:
    plan = plan_reports(agencies, rng)
    start = dt.date(2024, 1, 1)
    pii: Counter[str] = Counter()
    drafts = []
    seen: set[str] = set()
    by_topic: dict[int, list[set[str]]] = {}
    used_cores: set[tuple[int, str]] = set()
    for agency, topic in plan:
        earlier = by_topic.setdefault(id(topic), [])
        best = None
        for attempt in range(ATTEMPTS):
            date = start + dt.timedelta(days=rng.randrange(366))
            judul, isi, slots, core = compose_report(agency, topic, rng, pools, date)
            if isi in seen:
                continue
            # prefer a way of stating the matter not used before for this sub-issue, then
            # reject near-duplicates of earlier reports on the same sub-issue
            if (id(topic), core) in used_cores and attempt < ATTEMPTS // 2:
                continue
            words = set(re.findall(r"\w+", f"{judul} {isi}".lower()))
            overlap = max((jaccard(words, w) for w in earlier), default=0.0)
            if best is None or overlap < best[0]:
                best = (overlap, date, judul, isi, slots, core, words)
            if overlap < MAX_JACCARD:
                break
        if best is None:
            raise RuntimeError(f"could not compose a new text for {agency.name} / {topic.kat_name}")
        _, date, judul, isi, slots, core, words = best
        seen.add(isi)
        earlier.append(words)
        used_cores.add((id(topic), core))
        register = slots.register
        isi = add_pii(isi, rng, pii)
        seconds = rng.choice([rng.randint(6 * 3600, 22 * 3600), rng.randint(0, 86399)])
        time = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        drafts.append((date, time, agency, topic, judul, isi, slots, register))
    drafts.sort(key=lambda d: (d[0], d[1]))
    reports: list[Report] = []
    tracking = 8_100_000
    for date, time, agency, topic, judul, isi, slots, register in drafts:
        tracking += rng.randint(40, 900)
        klas = klasifikasi(topic.kind, rng)
        akhir = isi if rng.random() < 0.3 else admin_edit(isi)
        from lapor_triage.text import mask_pii

        akhir = mask_pii(akhir)
        reports.append(
            Report(
                tracking_id=str(tracking),
                date=date,
                time=time,
                kind=topic.kind,
                klasifikasi=klas,
                agency=agency,
                topic=topic,
                judul=judul,
                isi=isi,
                isi_akhir=akhir,
                slots=slots,
                register=register,
            )
        )
    return reports, pii


def export_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def write_export(reports: list[Report], path: Path, rng: random.Random) -> None:
    width = len(HEADER)

    def pad(*cells: str) -> list[str]:
        return list(cells) + [""] * (width - len(cells))

    rows = [
        pad("Judul Laporan", "", "Laporan Ringkas"),
        pad(),
        pad("Nama Instansi", "", f"Pemerintah {CITY}"),
        pad(),
        pad("Tanggal Generate", "", "2025-01-15"),
        pad(),
        pad("Periode Masuk", "", "(2024-01-01) - (2024-12-31)"),
        pad(),
        pad("Pengelola"),
        pad(),
        HEADER,
    ]
    for r in reports:
        status = weighted(rng, STATUS)
        # LAPOR fills the location fields for some reports; reports to a kecamatan office
        # almost always name it (see ../shared/data/README.md)
        office = bool(r.agency.one("kecamatan"))
        with_loc = rng.random() < (0.9 if office else 0.55 if r.slots.used_location else 0.0)
        rows.append(
            [
                r.tracking_id,
                export_date(r.date),
                r.time,
                r.klasifikasi,
                r.topic.kat_id,
                r.topic.kat_name,
                r.judul,
                r.isi,
                r.isi_akhir,
                weighted(rng, TIPE),
                weighted(rng, SUMBER),
                f"Pemerintah {CITY}",
                r.agency.one("id"),
                r.agency.name,
                status,
                ALASAN.get(status, ""),
                PROVINCE if rng.random() < 0.93 else "",
                CITY if rng.random() < 0.92 else "",
                r.slots.kec.upper() if with_loc else "",
                r.slots.kel if with_loc and rng.random() < 0.7 else "",
            ]
        )
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


# --------------------------------------------------------------------------------------------
# Replies (GUIDELINE.md format)
# --------------------------------------------------------------------------------------------

# (label, reasons, how many) - every reason code at least 5 times.
REPLY_PLAN: list[tuple[str, tuple[str, ...], int]] = [
    ("substantif", ("tindakan_konkret",), 12),
    ("substantif", ("jadwal",), 7),
    ("substantif", ("hasil_verifikasi", "tindakan_konkret"), 8),
    ("substantif", ("hasil_verifikasi", "jadwal"), 6),
    ("substantif", ("tindakan_konkret", "jadwal"), 5),
    ("substantif", ("hasil_verifikasi",), 5),
    ("substantif", ("informasi_diminta",), 14),
    ("substantif", ("keputusan_beralasan",), 9),
    ("substantif", ("keputusan_beralasan", "informasi_diminta"), 3),
    ("substantif", ("permintaan_data_spesifik",), 8),
    ("normatif", ("janji_tanpa_rincian",), 12),
    ("normatif", ("diteruskan_tanpa_hasil",), 8),
    ("normatif", ("tidak_relevan",), 9),
    ("normatif", ("ucapan_terima_kasih_saja",), 6),
    ("normatif", ("sudah_ditindaklanjuti_tanpa_isi",), 7),
    ("normatif", ("aturan_umum",), 5),
    ("normatif", ("arahan_umum",), 5),
    ("normatif", ("aturan_umum", "janji_tanpa_rincian"), 5),
    ("normatif", ("janji_tanpa_rincian", "arahan_umum"), 4),
    ("normatif", ("aturan_umum", "arahan_umum"), 4),
    ("normatif", ("diteruskan_tanpa_hasil", "janji_tanpa_rincian"), 3),
]

# Which report kinds a reason plan fits, and the topic pieces it needs.
NEEDS = {
    "tindakan_konkret": ("C", "act"),
    "jadwal": ("CA", "plan"),
    "hasil_verifikasi": ("C", "found"),
    "informasi_diminta": ("Q", "ans"),
    "keputusan_beralasan": ("CAQ", "dec"),
    "permintaan_data_spesifik": ("C", "need"),
}


def reply_body_piece(
    reason: str, report: Report, pools: dict[str, list[str]], rng: random.Random
) -> str:
    topic, slots, agency = report.topic, report.slots, report.agency
    if reason in NEEDS:
        key = NEEDS[reason][1]
        return fill(rng.choice(topic.get(key)), slots)
    if reason == "aturan_umum":
        return fill(rng.choice(agency.get("rule")), slots)
    if reason == "arahan_umum":
        return fill(rng.choice(agency.get("office") + pools["reply_arahan"]), slots)
    name = "reply_diteruskan" if reason == "diteruskan_tanpa_hasil" else f"reply_{reason}"
    options = pools[name]
    if not slots.used_location:  # do not name a kelurahan the report never mentioned
        options = [o for o in options if "{kel}" not in o and "{kec}" not in o] or options
    return fill(rng.choice(options), slots)


def fits(report: Report, reasons: tuple[str, ...]) -> bool:
    for reason in reasons:
        if reason not in NEEDS:
            continue
        kinds, key = NEEDS[reason]
        if report.kind not in kinds:
            return False
        if not report.topic.get(key):
            return False
    return True


def compose_reply(
    report: Report,
    label: str,
    reasons: tuple[str, ...],
    reports: list[Report],
    pools: dict[str, list[str]],
    rng: random.Random,
) -> str:
    casual = report.register == "informal" and rng.random() < 0.5
    greet = fill(rng.choice(pools["reply_greet_i" if casual else "reply_greet_f"]), report.slots)
    close = fill(rng.choice(pools["reply_close_i" if casual else "reply_close_f"]), report.slots)
    body: list[str] = []
    for reason in reasons:
        if reason == "tidak_relevan":
            # a specific answer about another matter of the same agency
            others = [
                o
                for o in reports
                if o.agency is report.agency
                and o.topic is not report.topic
                and (o.topic.get("act") or o.topic.get("ans"))
            ]
            other = rng.choice(others)
            key = "act" if other.topic.get("act") else "ans"
            body.append(fill(rng.choice(other.topic.get(key)), other.slots))
        else:
            body.append(reply_body_piece(reason, report, pools, rng))
    if label == "normatif" and rng.random() < 0.35:
        body.append(fill(rng.choice(pools["reply_padding"]), report.slots))
    short = label == "substantif" and rng.random() < 0.2
    parts = body if short else [greet, *body, close]
    text = " ".join(p for p in parts if p)
    return capitalise(text)


def build_replies(
    reports: list[Report], pools: dict[str, list[str]], rng: random.Random
) -> list[dict[str, object]]:
    from lapor_triage.text import mask_pii

    rows: list[dict[str, object]] = []
    use_count: Counter[str] = Counter()
    seen_texts: set[str] = set()
    for label, reasons, n in REPLY_PLAN:
        candidates = [r for r in reports if fits(r, reasons)]
        if not candidates:
            raise RuntimeError(f"no demo report fits a {label} reply with {reasons}")
        made = 0
        for _attempt in range(n * 30):
            if made == n:
                break
            # spread replies over agencies and reports: prefer reports used least so far
            rng.shuffle(candidates)
            candidates.sort(key=lambda r: use_count[r.tracking_id])
            report = candidates[0]
            text = compose_reply(report, label, reasons, reports, pools, rng)
            if text in seen_texts:
                continue
            seen_texts.add(text)
            use_count[report.tracking_id] += 1
            rows.append(
                {
                    "report_source": "demo/reports.csv",
                    "report_id": report.tracking_id,
                    "report_text": mask_pii(f"{report.judul}. {report.isi}"),
                    "agency": report.agency.name,
                    "reply_text": mask_pii(text),
                    "label": label,
                    "reasons": list(reasons),
                }
            )
            made += 1
        if made < n:
            raise RuntimeError(f"only {made}/{n} distinct replies for {reasons}")
    rng.shuffle(rows)
    return [{"id": f"demo-{i:04d}", **row} for i, row in enumerate(rows, 1)]


# --------------------------------------------------------------------------------------------
# Feedback rows (as the service exports them)
# --------------------------------------------------------------------------------------------


def build_feedback(
    reports: list[Report],
    replies: list[dict[str, object]],
    rng: random.Random,
) -> list[dict[str, object]]:
    """Rows shaped like ``GET /v1/feedback/export`` of the service (service/routers/feedback.py):
    every row has the same ten keys, ``null`` where a field does not apply to its kind."""
    from lapor_triage.text import clean_text, report_text

    def stamp(day: dt.date, hour: int, spread: int) -> str:
        moment = dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.timezone.utc)
        moment += dt.timedelta(minutes=rng.randint(0, spread))
        return moment.isoformat(timespec="seconds")

    rows: list[dict[str, object]] = []
    for i, report in enumerate(rng.sample(reports, 16)):
        overridden = i % 3 == 0  # the admin chose another agency than the suggested one
        rows.append(
            {
                "kind": "triage",
                "report_id": report.tracking_id,
                "text": report_text(report.judul, report.isi),
                "report_type": report.report_type,
                "agency": report.agency.name,
                "decision": "overridden" if overridden else "accepted",
                "reply_text": None,
                "reply_label": None,
                "created_at": stamp(report.date + dt.timedelta(days=1), 8, 600),
                "weight": 1.0,
            }
        )
    for i, reply in enumerate(rng.sample(replies, 5)):
        report = next(r for r in reports if r.tracking_id == reply["report_id"])
        rows.append(
            {
                "kind": "reply",
                "report_id": reply["report_id"],
                "text": clean_text(reply["report_text"]),
                "report_type": None,
                "agency": reply["agency"],
                "decision": ["accepted", "overridden", None][i % 3],
                "reply_text": clean_text(reply["reply_text"], salutation=False),
                "reply_label": reply["label"],
                "created_at": stamp(report.date + dt.timedelta(days=6), 9, 420),
                "weight": 1.0,
            }
        )
    rows.sort(key=lambda r: str(r["created_at"]))
    return rows


def write_jsonl(rows: list[dict[str, object]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------------
# Checks printed with --check
# --------------------------------------------------------------------------------------------


def near_duplicate_stats(texts: list[str]) -> tuple[float, int]:
    """Highest cosine similarity of word 1-2 gram TF-IDF between two different texts, and the
    number of pairs above 0.8."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    sims = (matrix @ matrix.T).toarray()
    for i in range(len(texts)):
        sims[i, i] = 0.0
    return float(sims.max()), int((sims > 0.8).sum() // 2)


def print_check(reports: list[Report], replies: list[dict[str, object]], pii: Counter[str]) -> None:
    texts = [r.isi for r in reports]
    print(f"reports: {len(reports)}, distinct texts: {len(set(texts))}")
    print("types:", dict(Counter(r.report_type for r in reports)))
    relabelled = sum(TYPE_LABEL[r.kind] != r.report_type for r in reports)
    print(f"klasifikasi differing from the text's speech act: {relabelled}")
    print("klasifikasi:", dict(Counter(r.klasifikasi for r in reports)))
    print("registers:", dict(Counter(r.register for r in reports)))
    agencies = Counter(r.agency.name for r in reports)
    print(f"agencies: {len(agencies)} (min {min(agencies.values())} reports)")
    print("pii inserted:", dict(pii))
    top, pairs = near_duplicate_stats([f"{r.judul}\n{r.isi}" for r in reports])
    print(f"near-duplicates: max pairwise cosine {top:.3f}, pairs above 0.8: {pairs}")
    print("replies:", len(replies), dict(Counter(str(r["label"]) for r in replies)))
    reasons = Counter(code for r in replies for code in r["reasons"])  # type: ignore[union-attr]
    print("reasons:", dict(sorted(reasons.items())))


CARD_BEGIN = "<!-- stats:begin (written by build_demo.py, do not edit by hand) -->"
CARD_END = "<!-- stats:end -->"


def card_tables(
    reports: list[Report], replies: list[dict[str, object]], feedback: list[dict[str, object]]
) -> str:
    """Markdown tables of the data card, computed from the generated rows."""
    n = len(reports)
    lines: list[str] = []
    texts = [f"{r.judul}\n{r.isi}" for r in reports]
    top, pairs = near_duplicate_stats(texts)
    lengths = sorted(len(r.isi) for r in reports)
    lines += [
        f"{n} reports, {len(set(r.isi for r in reports))} distinct texts "
        f"(highest TF-IDF cosine between two reports {top:.2f}; pairs above 0.8: {pairs}); "
        f"body length median {lengths[n // 2]} characters (min {lengths[0]}, max {lengths[-1]}); "
        f"dates {min(r.date for r in reports)} to {max(r.date for r in reports)}.",
        "",
        "| report type (from Klasifikasi) | reports | share |",
        "|---|---:|---:|",
    ]
    types = Counter(r.report_type for r in reports)
    for label in ("pengaduan", "aspirasi", "permintaan_informasi"):
        lines.append(f"| {label} | {types[label]} | {types[label] / n:.1%} |")
    lines += ["", "| Klasifikasi Laporan | reports |", "|---|---:|"]
    for value, count in sorted(Counter(r.klasifikasi for r in reports).items()):
        lines.append(f"| {value} | {count} |")
    relabelled = sum(TYPE_LABEL[r.kind] != r.report_type for r in reports)
    lines += [
        "",
        f"Klasifikasi that differs from what the text does (see Limitations): {relabelled}.",
        "",
        "| Instansi Terdisposisi | reports | pengaduan | aspirasi | permintaan_informasi |",
        "|---|---:|---:|---:|---:|",
    ]
    by_agency: dict[str, Counter[str]] = {}
    for r in reports:
        by_agency.setdefault(r.agency.name, Counter())[r.report_type] += 1
    for name in sorted(by_agency):
        c = by_agency[name]
        lines.append(
            f"| {name} | {sum(c.values())} | {c['pengaduan']} | {c['aspirasi']} "
            f"| {c['permintaan_informasi']} |"
        )
    registers = Counter(r.register for r in reports)
    salutation = sum(r.isi.startswith(("Yth.", "Kepada Yth.")) for r in reports)
    masked = sum(any(t in r.isi for t in ("[TELEPON]", "[NIK]", "[EMAIL]")) for r in reports)
    from lapor_triage.text import contains_pii

    raw = sum(contains_pii(r.isi) for r in reports)
    located = sum(bool(r.slots.used_location) for r in reports)
    lines += [
        "",
        "| feature of the texts | reports |",
        "|---|---:|",
        f"| formal register | {registers['formal']} |",
        f"| informal register (chat spelling, abbreviations, typos) | {registers['informal']} |",
        f"| opens with a 'Yth. ...' salutation | {salutation} |",
        f"| contains masked placeholders ([TELEPON], [NIK], [EMAIL]) | {masked} |",
        f"| contains raw fake personal data (to exercise masking) | {raw} |",
        f"| names a street, kelurahan or kecamatan | {located} |",
        "",
        "| reply label | replies |",
        "|---|---:|",
    ]
    labels = Counter(str(r["label"]) for r in replies)
    for label in ("normatif", "substantif"):
        lines.append(f"| {label} | {labels[label]} |")
    codes = Counter(code for r in replies for code in r["reasons"])  # type: ignore[attr-defined]
    lines += ["", "| reason code | group | replies |", "|---|---|---:|"]
    for code in NORMATIF_CODES:
        lines.append(f"| {code} | normatif | {codes[code]} |")
    for code in SUBSTANTIF_CODES:
        lines.append(f"| {code} | substantif | {codes[code]} |")
    kinds = Counter((str(r["kind"]), json.dumps(r["decision"]).strip('"')) for r in feedback)
    lines += ["", "| feedback kind | decision | rows |", "|---|---|---:|"]
    for (kind, decision), count in sorted(kinds.items()):
        lines.append(f"| {kind} | {decision} | {count} |")
    return "\n".join(lines)


def update_card(path: Path, tables: str) -> bool:
    """Replace the computed block of the data card; False when the card has no markers."""
    if not path.exists():
        return False
    text = path.read_text(encoding="utf-8")
    if CARD_BEGIN not in text or CARD_END not in text:
        return False
    head, rest = text.split(CARD_BEGIN, 1)
    _, tail = rest.split(CARD_END, 1)
    path.write_text(f"{head}{CARD_BEGIN}\n{tables}\n{CARD_END}{tail}", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    parser.add_argument("--check", action="store_true", help="print counts and checks")
    args = parser.parse_args(argv)
    agencies, pools = load_pieces()
    rng = random.Random(SEED)
    reports, pii = build_reports(agencies, pools, rng)
    args.out.mkdir(parents=True, exist_ok=True)
    write_export(reports, args.out / "reports.csv", random.Random(SEED + 1))
    replies = build_replies(reports, pools, random.Random(SEED + 2))
    write_jsonl(replies, args.out / "replies.jsonl")
    feedback = build_feedback(reports, replies, random.Random(SEED + 3))
    write_jsonl(feedback, args.out / "feedback.jsonl")
    print(f"wrote {len(reports)} reports, {len(replies)} replies, {len(feedback)} feedback rows")
    if update_card(args.out / "README.md", card_tables(reports, replies, feedback)):
        print(f"updated the computed tables of {args.out / 'README.md'}")
    if args.check:
        print_check(reports, replies, pii)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
