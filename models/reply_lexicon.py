"""Indonesian phrase lexicon for follow-up replies (tindak lanjut).

Two families of patterns, each tied to a reason code of ../shared/data/replies/GUIDELINE.md:

* ``NORMATIF_PATTERNS``: stock phrases that could be pasted under almost any report
  ("terima kasih atas", "akan segera ditindaklanjuti", "telah diteruskan ke bidang terkait", ...).
* ``SUBSTANTIF_PATTERNS``: signals of substance (completed actions such as "sudah kami tambal",
  dates and times, quantities, requirements and costs, decisions with a reason, requests for a
  specific missing detail).

Patterns are plain regular expressions without nested quantifiers, so scanning a 50,000-character
reply stays linear. :func:`find_phrases` returns the matches as character spans of the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NORMATIF_REASONS = (
    "ucapan_terima_kasih_saja",
    "janji_tanpa_rincian",
    "diteruskan_tanpa_hasil",
    "sudah_ditindaklanjuti_tanpa_isi",
    "aturan_umum",
    "arahan_umum",
    "tidak_relevan",
)
SUBSTANTIF_REASONS = (
    "tindakan_konkret",
    "jadwal",
    "hasil_verifikasi",
    "informasi_diminta",
    "keputusan_beralasan",
    "permintaan_data_spesifik",
)
REASONS = NORMATIF_REASONS + SUBSTANTIF_REASONS
LABEL_OF_REASON = {
    **{r: "normatif" for r in NORMATIF_REASONS},
    **{r: "substantif" for r in SUBSTANTIF_REASONS},
}

# Common spellings: "sudah" / "sdh" / "telah", "akan" / "segera", "yang" / "yg", "kami" / "kmi".
_SUDAH = r"(?:sudah|sdh|udah|telah|tlh)"
_KAMI = r"(?:kami|petugas|tim|pihak\s+kami)"
_TL = r"(?:ditindak\s?lanjuti|ditindaklanjut|di\s?tindak\s?lanjuti|ditangani|diproses|ditanggapi)"

NORMATIF_PATTERNS: dict[str, list[str]] = {
    "ucapan_terima_kasih_saja": [
        r"\bterima\s?kasih\s+(?:atas|untuk|telah|sudah|kami\s+ucapkan)\b",
        r"\bterima\s?kasih\s+(?:laporan|informasi|pengaduan|masukan|aduan)\w*",
        r"\b(?:kami\s+)?mengapresiasi\b",
        r"\bapresiasi\s+(?:kami|atas)\b",
        r"\b(?:laporan|pengaduan|aduan|informasi)\s+(?:\w+\s+){0,3}(?:sudah|telah)\s+kami\s+terima\b",
        r"\bkepedulian\s+(?:bapak|ibu|saudara|anda)\w*",
        r"\bmohon\s+maaf\s+atas\s+ketidaknyamanan\w*",
    ],
    "janji_tanpa_rincian": [
        r"\bakan\s+(?:segera\s+)?(?:kami\s+)?(?:ditindak\s?lanjuti|tindak\s?lanjuti|tindaklanjuti|dikoordinasikan|koordinasikan|ditangani|tangani|diproses|proses|dipelajari|pelajari|dievaluasi|evaluasi|ditinjau|tinjau|dikaji|kaji)\b",
        r"\b(?:menjadi|jadi|sebagai)\s+(?:perhatian|bahan\s+evaluasi|masukan|catatan|bahan\s+masukan)\b",
        r"\bsegera\s+(?:ditindak\s?lanjuti|ditangani|diproses|dikoordinasikan)\b",
        r"\bskala\s+prioritas\b",
        r"\bsesuai\s+(?:ketersediaan|kemampuan)\s+anggaran\b",
        r"\b(?:sudah|telah)\s+kami\s+catat\b",
        r"\bakan\s+(?:kami\s+)?(?:upayakan|usahakan|perhatikan|tingkatkan)\b",
        r"\bmohon\s+(?:kesabaran|bersabar|kesabarannya)\w*",
        r"\bdalam\s+(?:proses|tahap)\s+(?:penanganan|tindak\s?lanjut)\b",
    ],
    "diteruskan_tanpa_hasil": [
        rf"\b{_SUDAH}\s+(?:kami\s+)?(?:diteruskan|teruskan|disampaikan|sampaikan|didisposisikan|disposisikan|dikoordinasikan|koordinasikan|dilimpahkan|limpahkan)\b",
        r"\b(?:bidang|dinas|instansi|unit|pihak|opd|perangkat\s+daerah|satuan\s+kerja)\s+(?:yang\s+|yg\s+)?(?:terkait|berwenang)\b",
        r"\bditeruskan\s+(?:ke|kepada)\b",
        r"\bdidisposisikan\s+(?:ke|kepada)\b",
    ],
    "sudah_ditindaklanjuti_tanpa_isi": [
        rf"\b{_SUDAH}\s+(?:kami\s+|di\s?)?(?:tindak\s?lanjuti|tindaklanjuti|ditindak\s?lanjuti|ditindaklanjuti|ditangani|tangani|direspon|ditanggapi|selesai\s+ditangani)\b",
        r"\bsudah\s+(?:beres|selesai)\s+(?:ya|kak|pak|bu)\b",
        r"\bsudah\s+(?:dalam\s+)?(?:penanganan|proses)\b",
    ],
    "aturan_umum": [
        r"\bsesuai\s+(?:dengan\s+)?(?:ketentuan|peraturan|aturan|regulasi|prosedur|mekanisme|sop|perundang-?undangan)(?:\s+(?:yang|yg)\s+berlaku)?\b",
        r"\b(?:undang-undang|uu|peraturan\s+(?:presiden|pemerintah|menteri|daerah|bupati|walikota|wali\s+kota|gubernur)|perpres|permen\w*|perda|perwali|perbup|pergub|pp|se)\s+(?:no\.?|nomor)\s*\d+",
        r"\bmengacu\s+(?:pada|kepada)\b",
        r"\bberdasarkan\s+(?:ketentuan|peraturan|regulasi)\b",
        r"\bperlu\s+kami\s+(?:sampaikan|jelaskan|informasikan)\b",
        r"\bmerupakan\s+(?:kewenangan|program|tanggung\s+jawab)\b",
        r"\bkebijakan\s+(?:pemerintah|pusat|umum)\b",
    ],
    "arahan_umum": [
        r"\bsilah?kan\s+(?:datang|hadir|berkunjung|menghubungi|hubungi|menuju|mendatangi|ke|langsung|mengunjungi|mengakses|memantau|pantau|cek|mengecek|konfirmasi|berkoordinasi|koordinasi)\b",
        r"\b(?:datang|hadir)\s+(?:langsung\s+)?ke\s+(?:kantor|loket|kantor\s+cabang|kelurahan|kecamatan|desa)\b",
        r"\b(?:menghubungi|hubungi)\s+(?:call\s*cent(?:er|re)|hotline|kantor|petugas|pihak|kelurahan|kecamatan|desa|pendamping|nomor)\b",
        r"\bcall\s*cent(?:er|re)\b",
        r"\b(?:informasi|keterangan)\s+lebih\s+lanjut\b",
        r"\bpada\s+jam\s+(?:kerja|pelayanan|dinas)\b",
        r"\bwebsite\s+resmi\b|\bmedia\s+sosial\s+resmi\b",
    ],
    "tidak_relevan": [],
}

# Substance. Completed actions are first-person or passive with a concrete verb.
_ACTION_VERBS = (
    r"(?:di|kami\s+)?(?:tambal|perbaiki|perbaik|ganti|angkut|bersihkan|pangkas|tebang|potong|bongkar|"
    r"tertibkan|pasang|cor|aspal|keruk|normalisasi|sedot|semprot|fogging|cat|derek|tutup|buka|"
    r"salurkan|cairkan|kirim|terbitkan|cetak|aktifkan|ubah|koreksi|proses|ganti|kembalikan|"
    r"evakuasi|rujuk|jangkau|amankan|segel|tegur|panggil|periksa|tangkap|sita|tarik|bayarkan|"
    r"tambahkan|hapus|pindahkan|buatkan|berikan|lakukan|laksanakan|pulihkan|nyalakan|hidupkan)\w*"
)
SUBSTANTIF_PATTERNS: dict[str, list[str]] = {
    "tindakan_konkret": [
        rf"\b{_SUDAH}\s+(?:kami\s+|di\s?)?{_ACTION_VERBS}",
        rf"\b{_SUDAH}\s+(?:selesai\s+)?(?:ditambal|diperbaiki|diangkut|dibersihkan|dipangkas|ditebang|dibongkar|ditertibkan|dipasang|dicor|diaspal|dikeruk|dinormalisasi|diganti|dicat|diderek|disalurkan|dicairkan|diterbitkan|dicetak|diaktifkan|dikoreksi|dievakuasi|dirujuk|dijangkau|disegel|ditegur|dikembalikan|dipulihkan|menyala|berfungsi|normal|lancar)\b",
        r"\b(?:ditambal|diperbaiki|diangkut|dibersihkan|dipangkas|ditebang|dibongkar|ditertibkan|dipasang|dicor|dikeruk|dinormalisasi|diganti|diderek|dievakuasi|dirujuk|disegel|dicabut|dipulihkan)\s+(?:oleh|pada|sejak|kemarin|tadi|semalam|hari)\b",
        r"\b(?:kini|saat\s+ini|sekarang)\s+(?:sudah\s+|sdh\s+|telah\s+)?(?:normal|menyala|berfungsi|lancar|bersih|bisa|dapat)\b",
        r"\b(?:menyala|berfungsi|normal|lancar)\s+kembali\b",
    ],
    "jadwal": [
        r"\b(?:besok|lusa|kemarin|tadi\s+(?:pagi|siang|sore|malam)|semalam|minggu\s+depan|pekan\s+depan|bulan\s+depan|hari\s+ini)\b",
        r"\b(?:senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu)\b(?:\s+(?:pagi|siang|sore|malam|depan|ini|lalu))?",
        r"\b(?:pukul|jam)\s*\d{1,2}(?:[.:]\d{2})?",
        r"\b\d{1,2}\s+(?:januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|desember)(?:\s+\d{4})?\b",
        r"\b\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\b",
        r"\b(?:dijadwalkan|terjadwal|jadwal)\b",
        r"\b(?:paling\s+lambat|maksimal|selambat-?lambatnya)\s+\d+\s*(?:hari|minggu|bulan|jam)\b",
        r"\b(?:mulai|dimulai)\s+(?:tanggal|tgl|hari|besok|minggu|bulan)\b",
    ],
    "hasil_verifikasi": [
        r"\b(?:hasil\s+(?:pengecekan|pemeriksaan|verifikasi|survei|survey|peninjauan|cek|penelusuran|klarifikasi))\b",
        rf"\b{_SUDAH}\s+kami\s+(?:cek|periksa|verifikasi|telusuri|tinjau|klarifikasi|konfirmasi)\b",
        r"\b(?:sudah|telah|sdh)\s+(?:dicek|diperiksa|diverifikasi|ditelusuri|ditinjau|diklarifikasi)\b",
        r"\b(?:ditemukan|didapati|diketahui|tercatat|terdata|terdaftar|ternyata)\b",
        r"\bberdasarkan\s+(?:data|catatan|hasil|pengecekan|pemeriksaan)\b",
        r"\b(?:data|status)\s+(?:bapak|ibu|saudara|pelapor|peserta|anda|ybs)\w*\s+(?:sudah|telah|masih|belum|tercatat)\b",
    ],
    "informasi_diminta": [
        r"\b(?:syarat(?:nya)?|persyaratan(?:nya)?|berkas\s+yang\s+(?:perlu|harus)|dokumen\s+yang\s+(?:perlu|harus|dibutuhkan))\b",
        r"\b(?:biaya(?:nya)?|tarif(?:nya)?|gratis|tidak\s+dipungut\s+biaya)\b",
        r"\brp\.?\s?\d[\d.,]*",
        r"\b\d+\s*(?:-|s\.?d\.?|sampai)\s*\d+\s+hari\s+kerja\b|\b\d+\s+hari\s+kerja\b",
        r"\b(?:caranya|langkah(?:nya)?|prosedurnya|alurnya)\b",
        r"\b(?:melalui|lewat|di)\s+(?:aplikasi|laman|situs|menu)\s+\w+",
        r"\b(?:cukup|wajib|perlu)\s+(?:membawa|bawa|melampirkan|lampirkan|mengisi|isi)\b",
        r"\b(?:fotokopi|fc|ktp-?el|kartu\s+keluarga|kk|akta|pas\s+foto|surat\s+pengantar)\b",
    ],
    "keputusan_beralasan": [
        r"\b(?:bukan|di\s+luar)\s+(?:merupakan\s+)?(?:kewenangan|wewenang|aset|tanggung\s+jawab)\b",
        r"\b(?:tidak\s+dapat|tidak\s+bisa|belum\s+dapat)\s+(?:dikabulkan|diterima|diproses|disetujui|dicairkan|diberikan|dilayani)\b",
        r"\b(?:ditolak|dikabulkan|disetujui|dibatalkan|diputuskan|kami\s+putuskan)\b",
        r"\b(?:karena|krn|sebab|dikarenakan|disebabkan|oleh\s+karena\s+itu|sehingga)\b",
        r"\b(?:kewenangan|wewenang)\s+(?:dari\s+)?(?:dinas|badan|kementerian|pemerintah|pemprov|provinsi|pusat|bbpjn|pln|pdam|bpn)\b",
        r"\b(?:tidak\s+dapat|tidak\s+bisa|belum\s+dapat)\s+kami\s+(?:kabulkan|terima|proses|setujui|cairkan|berikan|layani|penuhi)\b",
        r"\bhanya\s+(?:dapat\s+)?(?:diberikan|berlaku|diperuntukkan|diperbolehkan)\b",
        r"\b(?:dengan\s+alasan|alasannya|oleh\s+sebab\s+itu|maka\s+dari\s+itu|sedangkan)\b",
        r"\btidak\s+memenuhi\s+(?:syarat|kriteria|ketentuan|persyaratan)\b",
        r"\b(?:dikecualikan|dirahasiakan|wajib\s+dirahasiakan)\b",
        r"\b(?:dialihkan|dilimpahkan)\s+(?:ke|kepada)\s+\w+",
    ],
    "permintaan_data_spesifik": [
        r"\b(?:mohon|dimohon|silakan|silahkan|harap)\s+(?:dikirimkan|kirimkan|kirim|dilengkapi|lengkapi|melengkapi|mengirimkan|menyertakan|sertakan|menginformasikan|informasikan|disampaikan|sampaikan|dicantumkan|cantumkan|diinfokan|infokan|dijelaskan|jelaskan|menjelaskan|disebutkan|sebutkan|dilampirkan|lampirkan)\b",
        r"\b(?:titik\s+(?:lokasi|koordinat)|share\s*loc|nomor\s+(?:tiang|registrasi|pengaduan|tiket|kpj|peserta|berkas|permohonan|rumah|polisi)|foto\s+(?:terbaru|lokasi|kerusakan))\b",
        r"\bagar\s+(?:dapat|bisa|kami\s+dapat)\s+(?:kami\s+)?(?:telusuri|tindak\s?lanjuti|cek|proses|verifikasi|tangani)\b",
        r"\b(?:belum|tidak)\s+(?:mencantumkan|menyebutkan|menyertakan|ada)\s+(?:alamat|lokasi|nama|nomor|foto)\b",
        r"\b(?:belum|tidak)\s+(?:tercantum|disebutkan|jelas)\s+(?:lokasi|alamat|nama|nomor|waktu)\w*",
    ],
}

_FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class Phrase:
    start: int
    end: int
    text: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "text": self.text, "reason": self.reason}


def _compile(patterns: dict[str, list[str]]) -> dict[str, list[re.Pattern[str]]]:
    return {code: [re.compile(p, _FLAGS) for p in pats] for code, pats in patterns.items()}


COMPILED_NORMATIF = _compile(NORMATIF_PATTERNS)
COMPILED_SUBSTANTIF = _compile(SUBSTANTIF_PATTERNS)
COMPILED = {**COMPILED_NORMATIF, **COMPILED_SUBSTANTIF}


def find_phrases(
    text: str, reasons: tuple[str, ...] | list[str] | None = None, limit: int = 200
) -> list[Phrase]:
    """Lexicon matches in ``text`` (spans index into ``text`` itself), sorted by position.

    Overlapping matches of the same reason are merged into one span; at most ``limit`` spans.
    """
    found: list[Phrase] = []
    for code in reasons or REASONS:
        spans: list[tuple[int, int]] = []
        for pat in COMPILED.get(code, []):
            for m in pat.finditer(text):
                if m.end() > m.start():
                    spans.append((m.start(), m.end()))
                if len(spans) >= limit:
                    break
        spans.sort()
        merged: list[list[int]] = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        found.extend(Phrase(s, e, text[s:e], code) for s, e in merged)
    found.sort(key=lambda p: (p.start, p.end))
    return found[:limit]


def phrase_counts(text: str) -> dict[str, int]:
    """Number of (merged) lexicon matches per reason code."""
    counts = dict.fromkeys(REASONS, 0)
    for p in find_phrases(text):
        counts[p.reason] += 1
    return counts
