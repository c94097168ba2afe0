"""Tiny models for the service tests, trained on a few dozen self-written Indonesian examples.

They are real predictors (the classes the service loads in production), just small and quick.
"""

from __future__ import annotations

from pathlib import Path

TOPICS = {
    "Dinas Pekerjaan Umum": ["jalan berlubang", "jembatan retak", "saluran drainase tersumbat"],
    "Dinas Perhubungan": ["lampu lalu lintas mati", "lampu PJU padam", "parkir liar di trotoar"],
    "Dinas Lingkungan Hidup": ["sampah menumpuk", "bau limbah pabrik", "pohon tumbang"],
    "Dinas Kesehatan": [
        "antrean puskesmas panjang",
        "obat di puskesmas habis",
        "wabah demam berdarah",
    ],
}
PLACES = ["Jalan Kenanga", "Jalan Melati", "Gang Mawar", "Jalan Merdeka"]
TEMPLATES = {
    "pengaduan": [
        "Saya mengadukan {t} di {p} yang sudah dua minggu dibiarkan. Mohon segera ditangani.",
        "Keluhan warga: {t} di {p} sangat mengganggu dan belum ada penanganan sama sekali.",
    ],
    "aspirasi": [
        "Kami mengusulkan agar pemerintah membuat program untuk mencegah {t} di {p} ke depan.",
        "Saran dari warga: sebaiknya ada kegiatan rutin terkait {t} di sekitar {p}.",
    ],
    "permintaan_informasi": [
        "Bagaimana cara melaporkan {t} di {p} dan berapa lama prosesnya? Mohon informasinya.",
        "Saya ingin bertanya, kapan jadwal penanganan {t} di {p}? Ke mana harus menghubungi?",
    ],
}


def report_examples() -> list[tuple[dict, str, str]]:
    """(record, report type, agency) triples."""
    out = []
    for agency, topics in TOPICS.items():
        for i, topic in enumerate(topics):
            for kind, templates in TEMPLATES.items():
                for j, template in enumerate(templates):
                    place = PLACES[(i + j) % len(PLACES)]
                    text = f"{topic.capitalize()} di {place}\n" + template.format(t=topic, p=place)
                    out.append(({"text": text, "kecamatan": "Wonokromo"}, kind, agency))
    return out


NORMATIF = [
    "Terima kasih atas laporan Saudara, akan segera kami tindak lanjuti sesuai ketentuan.",
    "Laporan sudah kami terima dan akan diteruskan ke bidang terkait. Terima kasih.",
    "Terima kasih atas partisipasinya, laporan akan kami koordinasikan dengan pihak terkait.",
    "Mohon bersabar, aduan Saudara sedang dalam proses dan akan ditindaklanjuti.",
]
SUBSTANTIF = [
    "Petugas UPT kami sudah memperbaiki {t} di {p} pada Senin 12 Februari 2024 pukul 09.00.",
    "Tim lapangan telah menangani {t} di {p} kemarin sore dengan dua truk dan lima petugas.",
    "Pada Rabu 14 Februari 2024 regu kami sudah menyelesaikan perbaikan {t} di {p}.",
    "{t} di {p} sudah kami tangani tanggal 3 Maret 2024, biaya ditanggung APBD 2024.",
]


def reply_examples() -> list[tuple[dict, str]]:
    out = []
    n = 0
    for agency, topics in TOPICS.items():
        for i, topic in enumerate(topics):
            place = PLACES[i % len(PLACES)]
            report = f"Saya mengadukan {topic} di {place} yang belum ditangani."
            normatif = NORMATIF[n % len(NORMATIF)]
            substantif = SUBSTANTIF[n % len(SUBSTANTIF)].format(t=topic, p=place)
            n += 1
            for reply, label in ((normatif, "normatif"), (substantif, "substantif")):
                rec = {"report_text": report, "reply_text": reply, "agency": agency}
                out.append((rec, label))
    return out


def train_tiny_models(root: Path) -> dict[str, Path]:
    from lapor_triage.models.agency import AgencyRouter
    from lapor_triage.models.reply_quality import ReplyQualityScorer
    from lapor_triage.models.report_type import ReportTypeClassifier

    reports = report_examples()
    X = [r for r, _, _ in reports]
    out = {}
    out["report-type"] = (
        ReportTypeClassifier(min_df=1, max_features=5000)
        .fit(X, [t for _, t, _ in reports])
        .save(root / "report-type")
    )
    out["agency"] = (
        AgencyRouter(min_df=1, max_features=5000, abstain_threshold=0.5)
        .fit(X, [a for _, _, a in reports])
        .save(root / "agency")
    )
    replies = reply_examples()
    out["reply-quality"] = (
        ReplyQualityScorer(cv_folds=3)
        .fit([r for r, _ in replies], [y for _, y in replies])
        .save(root / "reply-quality")
    )
    return out


# --- two levels: a national disposition model, and unit models of two regional governments ----
DISPOSITION_TOPICS = {
    "Dinas Perhubungan": ["lampu penerangan jalan umum mati", "lampu PJU padam", "rambu roboh"],
    "Dinas Pekerjaan Umum": ["jalan berlubang parah", "saluran drainase tersumbat"],
    "BPJS Kesehatan": ["klaim BPJS ditolak rumah sakit", "kartu JKN tidak aktif"],
    "Kementerian Sosial": ["bantuan PKH belum cair", "bansos tidak tepat sasaran"],
}
DISPOSITION_PLACES = {
    "Dinas Perhubungan": [("Kota Semarang", ["Semarang", "kota Semarang"])],
    "Dinas Pekerjaan Umum": [("Kota Semarang", ["Semarang"]), ("Kota Bandung", ["Bandung"])],
    "BPJS Kesehatan": [("KC Sampit", ["Sampit"]), ("KC Palangkaraya", ["Palangkaraya"])],
}


def disposition_examples(n_per: int = 6) -> tuple[list[dict], list[str]]:
    """Self-written national posts: (records, instansi) with kind + region labels."""
    X, y = [], []
    for kind, phrases in DISPOSITION_TOPICS.items():
        for region, words in DISPOSITION_PLACES.get(kind, [(None, [""])]):
            for i in range(n_per):
                phrase, where = phrases[i % len(phrases)], words[i % len(words)]
                place = f" di {where}" if where else ""
                X.append({"text": f"{phrase}{place}, mohon ditindaklanjuti (laporan {i})"})
                y.append(f"{kind} {region}" if region else kind)
    return X, y


# Each regional government has its own units: labels the other government's model never gives.
UNIT_TOPICS = {
    "Pemerintah Kota Surabaya": {
        "Dinas Sumber Daya Air dan Bina Marga Kota Surabaya": ["jalan berlubang", "saluran mampet"],
        "Dinas Kebersihan dan Ruang Terbuka Hijau Kota Surabaya": [
            "sampah menumpuk",
            "taman kotor",
        ],
    },
    "Pemerintah Kabupaten Bandung": {
        "Dinas PUTR Kabupaten Bandung": ["jalan berlubang", "jembatan retak"],
        "Dinas Lingkungan Hidup Kabupaten Bandung": ["sampah menumpuk", "sungai tercemar"],
    },
}


def train_tiny_disposition(root: Path) -> Path:
    from lapor_triage.models.disposition import DispositionModel

    X, y = disposition_examples()
    return DispositionModel(min_df=1).fit(X, y).save(root / "disposition")


def train_tiny_unit_models(root: Path) -> dict[str, Path]:
    """One small agency router per regional government (penerima -> model folder)."""
    from lapor_triage.models.agency import AgencyRouter

    out = {}
    for n, (penerima, units) in enumerate(UNIT_TOPICS.items()):
        X, y = [], []
        for unit, topics in units.items():
            for topic in topics:
                for place in PLACES:
                    for template in TEMPLATES["pengaduan"]:
                        X.append({"text": template.format(t=topic, p=place)})
                        y.append(unit)
        router = AgencyRouter(min_df=1, max_features=2000, abstain_threshold=0.5).fit(X, y)
        out[penerima] = router.save(root / f"unit-{n}")
    return out
