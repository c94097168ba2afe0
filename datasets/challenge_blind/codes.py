# Short aliases for the reason codes defined in /work/shared/data/replies/GUIDELINE.md
C = {
    "TK": "tindakan_konkret",
    "JD": "jadwal",
    "HV": "hasil_verifikasi",
    "ID": "informasi_diminta",
    "KB": "keputusan_beralasan",
    "PD": "permintaan_data_spesifik",
    "TS": "ucapan_terima_kasih_saja",
    "JT": "janji_tanpa_rincian",
    "DT": "diteruskan_tanpa_hasil",
    "ST": "sudah_ditindaklanjuti_tanpa_isi",
    "AU": "aturan_umum",
    "AR": "arahan_umum",
    "TR": "tidak_relevan",
}
SUBST = {"TK", "JD", "HV", "ID", "KB", "PD"}


def codes(s):
    return [C[x] for x in s.split()]
