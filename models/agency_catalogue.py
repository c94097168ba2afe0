"""What the usual offices of Indonesian regional government handle: a catalogue for rare agencies.

Agency labels follow a long tail: an office with a handful of training reports (or one, after a
rename) cannot be learned from them alone, yet its remit is public knowledge — Dinas Pertanian
handles *kartu tani*, fertiliser and livestock; the KB office handles contraception and child
protection. :data:`CATALOGUE` writes that knowledge down, per kind of office (the *perangkat
daerah* of PP 18/2016 and the units most regional governments have), as short Indonesian phrases.

:func:`catalogue_documents` turns it into extra training documents for the agency labels of a
training set whose names match a kind (by :func:`lapor_triage.labels.agency_key`-style lower-case
patterns), so a rare office starts from its remit instead of from nothing. Labels that match no
kind get nothing (kelurahan and kecamatan offices have no entry: they differ by place, not by
remit); offices outside the training labels are never invented.

The entries were written from the offices' published remits. The error analysis that prompted
the catalogue (Kab. Bandung's latest reports) showed reports about kartu tani, KB and licences,
so those remits are spelled out in some detail, and Surabaya's showed the pre-marital classes
(kelas catin) of the KB office; see the README's quality section.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class OfficeKind:
    """One kind of office: name patterns (regular expressions on the lower-cased name) and the
    phrases of its remit."""

    name: str
    patterns: tuple[str, ...]
    remit: tuple[str, ...]

    def matches(self, agency: str) -> bool:
        key = " ".join(agency.lower().split())
        return any(re.search(p, key) for p in self.patterns)


def _kind(name: str, patterns: Sequence[str], remit: str) -> OfficeKind:
    phrases = tuple(p.strip() for p in remit.split(";") if p.strip())
    return OfficeKind(name, tuple(patterns), phrases)


CATALOGUE: tuple[OfficeKind, ...] = (
    _kind(
        "pendidikan",
        [r"\bpendidikan\b", r"\bdisdik\b"],
        "sekolah dasar dan sekolah menengah pertama; guru dan tenaga pendidik; penerimaan peserta "
        "didik baru PPDB dan zonasi; pungutan sekolah dan uang seragam; dana BOS; ijazah dan "
        "rapor; PAUD dan TK; beasiswa siswa; honor guru; gedung sekolah rusak; buku pelajaran; "
        "murid dan siswa; kepala sekolah",
    ),
    _kind(
        "kesehatan",
        [r"\bkesehatan\b", r"\bdinkes\b"],
        "puskesmas dan pelayanan kesehatan; dokter, bidan dan perawat; obat dan vaksin; "
        "imunisasi anak; posyandu; stunting dan gizi buruk; demam berdarah dan fogging; "
        "BPJS Kesehatan di puskesmas; rujukan pasien; ambulans; sanitasi dan air bersih; "
        "tenaga kesehatan",
    ),
    _kind(
        "rumah sakit",
        [r"\brumah sakit\b", r"\brsud\b", r"\brs\b"],
        "rumah sakit umum daerah; pasien rawat inap dan rawat jalan; IGD gawat darurat; antrean "
        "poli; pelayanan dokter spesialis; biaya rumah sakit dan BPJS; kamar perawatan penuh; "
        "perawat tidak ramah",
    ),
    _kind(
        "pekerjaan umum",
        [
            r"pekerjaan umum",
            r"\bpupr\b",
            r"\bdputr\b",
            r"bina marga",
            r"sumber daya air",
            r"tata ruang",
        ],
        "jalan rusak dan berlubang; perbaikan dan pengaspalan jalan; jembatan; drainase dan "
        "saluran air tersumbat; gorong-gorong; trotoar; irigasi; tanggul sungai; banjir dan "
        "genangan; tata ruang dan zona; betonisasi jalan; proyek pembangunan jalan",
    ),
    _kind(
        "perumahan",
        [r"perumahan", r"permukiman", r"pertanahan", r"\bperkim\b", r"\bdisperkim\b"],
        "rumah tidak layak huni rutilahu; bantuan perbaikan rumah; perumahan dan pengembang; "
        "prasarana sarana utilitas PSU fasos fasum; penerangan jalan umum PJU lampu jalan; "
        "pemakaman dan makam; sertifikat dan sengketa tanah; kawasan kumuh; sanitasi permukiman",
    ),
    _kind(
        "lingkungan hidup",
        [r"lingkungan hidup", r"\bdlh\b", r"kebersihan", r"pertamanan"],
        "sampah menumpuk dan tidak diangkut; tempat pembuangan sampah TPS dan TPA; truk sampah; "
        "pencemaran sungai dan limbah pabrik; bau busuk; polusi udara dan asap; pembakaran "
        "sampah; pohon dan taman kota; izin lingkungan AMDAL; bank sampah",
    ),
    _kind(
        "perhubungan",
        [r"perhubungan", r"\bdishub\b"],
        "lampu lalu lintas traffic light; parkir liar dan juru parkir; angkutan umum dan angkot; "
        "terminal; rambu dan marka jalan; uji KIR kendaraan; truk besar dan kelebihan muatan; "
        "kemacetan lalu lintas; halte; ojek dan transportasi",
    ),
    _kind(
        "kependudukan",
        [r"kependudukan", r"pencatatan sipil", r"\bdisdukcapil\b", r"\bdukcapil\b"],
        "KTP elektronik e-KTP; kartu keluarga KK; akta kelahiran dan akta kematian; pindah "
        "domisili dan surat pindah; NIK dan data kependudukan; identitas kependudukan digital "
        "IKD; kartu identitas anak KIA; perekaman dan cetak KTP; blangko KTP",
    ),
    _kind(
        "sosial",
        [r"\bsosial\b", r"\bdinsos\b"],
        "bantuan sosial bansos; PKH program keluarga harapan; BPNT bantuan pangan non tunai; "
        "DTKS data terpadu kesejahteraan sosial; KIS PBI penerima bantuan iuran BPJS; warga "
        "miskin dan fakir miskin; orang terlantar, gelandangan dan pengemis; ODGJ; penyandang "
        "disabilitas; lansia terlantar; panti sosial",
    ),
    _kind(
        "ketenagakerjaan",
        [r"tenaga kerja", r"ketenagakerjaan", r"\bdisnaker\b"],
        "PHK dan pesangon; upah minimum UMK; gaji tidak dibayar; THR; BPJS Ketenagakerjaan; "
        "lowongan kerja dan pencari kerja; kartu kuning AK1; pelatihan kerja BLK; perusahaan "
        "dan buruh; pekerja migran; kontrak kerja outsourcing",
    ),
    _kind(
        "perizinan",
        [r"penanaman modal", r"terpadu satu pintu", r"\bdpmptsp\b", r"perizinan"],
        "perizinan dan izin usaha; OSS dan NIB nomor induk berusaha; persetujuan bangunan gedung "
        "PBG dan IMB; surat izin praktik SIP dokter, bidan, perawat dan apoteker; SIPB dan SIPP; "
        "perpanjangan izin; pengajuan perizinan online; izin reklame; sertifikat laik fungsi SLF; "
        "investasi dan penanaman modal; berkas izin belum selesai",
    ),
    _kind(
        "keluarga berencana dan perlindungan anak",
        [
            r"pengendalian penduduk",
            r"keluarga berencana",
            r"perlindungan anak",
            r"pemberdayaan perempuan",
            r"\bdaldukppa\b",
            r"\bdp2kbp3a\b",
            r"\bdp3a\b",
        ],
        "keluarga berencana KB; alat kontrasepsi, IUD dan implan; vasektomi MOP dan tubektomi "
        "MOW; penyuluh KB dan kampung KB; BKKBN; generasi berencana GenRe; hari keluarga "
        "nasional Harganas; kekerasan terhadap perempuan dan anak; KDRT; perundungan dan "
        "bullying anak; pernikahan dini; perlindungan anak UPTD PPA; pemberdayaan perempuan; "
        "kelas calon pengantin catin dan bimbingan pranikah; sertifikat siap nikah elsimil; "
        "PUSPAGA pusat pembelajaran keluarga dan konseling keluarga",
    ),
    _kind(
        "pertanian",
        [r"\bpertanian\b", r"peternakan", r"\bdistan\b"],
        "petani dan kelompok tani; kartu tani; pupuk bersubsidi; benih dan bibit tanaman; sawah "
        "dan padi; hama tanaman; penyuluh pertanian; alat mesin pertanian traktor; peternakan "
        "dan ternak sapi kambing ayam; kesehatan hewan; penyakit mulut dan kuku PMK; rabies; "
        "alih fungsi lahan pertanian; hortikultura",
    ),
    _kind(
        "pangan dan perikanan",
        [r"\bpangan\b", r"perikanan", r"kelautan", r"ketahanan pangan"],
        "ketahanan pangan dan cadangan pangan; harga beras; keamanan pangan; ikan dan budidaya "
        "ikan; kolam ikan; nelayan; benih ikan; pasar ikan; bantuan pangan",
    ),
    _kind(
        "perdagangan",
        [r"perdagangan", r"perindustrian", r"\bdisperindag\b", r"\bpasar\b"],
        "pasar tradisional dan pedagang pasar; kios dan los pasar; harga sembako; minyak goreng; "
        "gas elpiji LPG 3 kg langka; timbangan dan tera metrologi; industri kecil; pabrik; "
        "retribusi pasar; minimarket",
    ),
    _kind(
        "koperasi dan UMKM",
        [r"koperasi", r"usaha kecil", r"\bumkm\b", r"\bukm\b"],
        "koperasi simpan pinjam; UMKM dan usaha mikro; pelatihan dan bantuan modal usaha; "
        "pinjaman dan rentenir; bank emok; produk UMKM; izin usaha mikro",
    ),
    _kind(
        "pemuda dan olahraga",
        [r"olahraga", r"kepemudaan", r"\bpemuda\b", r"\bdispora\b"],
        "olahraga dan atlet; stadion, GOR dan lapangan; alat olahraga; turnamen; kepemudaan "
        "dan karang taruna; kostum dan perlengkapan olahraga; fasilitas olahraga",
    ),
    _kind(
        "komunikasi dan informatika",
        [r"komunikasi", r"informatika", r"\bdiskominfo\b", r"persandian"],
        "internet dan wifi publik; sinyal dan menara BTS; website dan aplikasi pemerintah daerah; "
        "layanan aplikasi digital; hoaks; informasi publik PPID; media sosial pemda; kanal "
        "pengaduan",
    ),
    _kind(
        "kepegawaian",
        [r"kepegawaian", r"sumber daya manusia", r"\bbkd\b", r"\bbkpsdm\b"],
        "ASN dan PNS; PPPK dan CPNS; tenaga honorer dan kontrak; kenaikan pangkat; mutasi "
        "pegawai; disiplin pegawai; seleksi dan formasi pegawai; gaji dan tunjangan pegawai",
    ),
    _kind(
        "ketertiban umum",
        [r"pamong praja", r"\bsatpol\b"],
        "pedagang kaki lima PKL; penertiban; bangunan liar; reklame liar; minuman keras; "
        "tempat hiburan malam; ketertiban umum; penegakan perda; gelandangan; rumah kos "
        "meresahkan; balap liar",
    ),
    _kind(
        "pemadam kebakaran",
        [r"kebakaran", r"\bdamkar\b"],
        "kebakaran rumah; pemadam kebakaran; hidran; sarang tawon; evakuasi hewan; penyelamatan",
    ),
    _kind(
        "bencana",
        [r"penanggulangan bencana", r"\bbpbd\b"],
        "bencana alam; tanah longsor; banjir bandang; gempa bumi; angin puting beliung; "
        "pengungsi; tanggap darurat; bantuan korban bencana",
    ),
    _kind(
        "pendapatan",
        [r"pendapatan", r"\bbapenda\b", r"\bpajak\b"],
        "pajak daerah; pajak bumi dan bangunan PBB; SPPT; BPHTB; pajak restoran dan hotel; "
        "tagihan pajak; denda pajak",
    ),
    _kind(
        "keuangan dan aset",
        [r"keuangan", r"\baset\b", r"\bbpkad\b", r"\bbkad\b"],
        "keuangan daerah; aset dan barang milik daerah; sewa aset pemerintah; pencairan "
        "anggaran; dana hibah; pembayaran kegiatan",
    ),
    _kind(
        "perencanaan",
        [r"perencanaan", r"\bbappeda\b", r"\bbapperida\b", r"riset dan inovasi"],
        "perencanaan pembangunan daerah; musrenbang; usulan pembangunan; riset dan inovasi "
        "daerah; data pembangunan",
    ),
    _kind(
        "inspektorat",
        [r"inspektorat"],
        "pungutan liar pungli; korupsi; penyalahgunaan wewenang; oknum pegawai; gratifikasi; "
        "pengawasan dan audit; pelanggaran aparatur",
    ),
    _kind(
        "pemberdayaan desa",
        [r"pemberdayaan masyarakat", r"\bdesa\b", r"\bdpmd\b"],
        "dana desa; alokasi dana desa; kepala desa dan perangkat desa; BUMDes; BPD; pemilihan "
        "kepala desa; pembangunan desa",
    ),
    _kind(
        "pariwisata dan kebudayaan",
        [r"pariwisata", r"kebudayaan", r"\bdisparbud\b"],
        "objek wisata; tiket wisata; cagar budaya; kesenian dan budaya; hotel dan penginapan; "
        "event pariwisata",
    ),
    _kind(
        "perpustakaan dan arsip",
        [r"perpustakaan", r"kearsipan", r"\barsip\b"],
        "perpustakaan daerah; peminjaman buku; arsip dan dokumen; perpustakaan keliling",
    ),
    _kind(
        "air minum",
        [r"\bpdam\b", r"air minum", r"perumda"],
        "air PDAM mati atau keruh; meteran air; tagihan air; pipa bocor; sambungan air baru",
    ),
    _kind(
        "kesatuan bangsa",
        [r"kesatuan bangsa", r"\bkesbangpol\b"],
        "organisasi kemasyarakatan ormas; konflik sosial; wawasan kebangsaan; pemilu",
    ),
)


def kinds_of(agency: str, catalogue: Iterable[OfficeKind] = CATALOGUE) -> list[OfficeKind]:
    """The catalogue kinds whose patterns match an agency name (possibly none)."""
    return [k for k in catalogue if k.matches(agency)]


def catalogue_documents(
    agencies: Iterable[str],
    catalogue: Sequence[OfficeKind] = CATALOGUE,
    phrases_per_document: int = 4,
) -> list[tuple[str, str]]:
    """``(document, agency)`` pairs: the remit of each matching agency as short documents.

    Every agency gets one document with its whole remit and one per group of
    ``phrases_per_document`` phrases, so each phrase occurs twice (it survives ``min_df=2``).
    """
    out: list[tuple[str, str]] = []
    for agency in sorted(set(agencies)):
        phrases: list[str] = []
        for kind in kinds_of(agency, catalogue):
            phrases.extend(p for p in kind.remit if p not in phrases)
        if not phrases:
            continue
        out.append((". ".join(phrases), agency))
        for i in range(0, len(phrases), phrases_per_document):
            out.append((". ".join(phrases[i : i + phrases_per_document]), agency))
    return out
