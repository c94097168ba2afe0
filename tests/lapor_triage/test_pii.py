"""PII masking in Indonesian notations (issue 9, item 7): a table of what is masked and what is not.

Cases marked ``# issue 9`` are the notations the issue found unmasked before lapor_triage.pii.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import phonenumbers
import pytest

from lapor_triage import pii
from lapor_triage import text as text_module
from lapor_triage.pii import contains_pii, find_pii, mask_pii

T, N, E = "[TELEPON]", "[NIK]", "[EMAIL]"
ZW = "\u200b"
SURABAYA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SURABAYA = SURABAYA / "surabaya_media_center_2022_2023.csv"

MASKED = [
    # phone numbers
    ("(022) 7000123", T),  # issue 9
    ("telp (0274) 500123 ya", f"telp {T} ya"),  # issue 9
    ("0812 - 0648 - 7891", T),  # issue 9
    ("WA081206797892", f"WA{T}"),  # issue 9
    (f"hp 0812{ZW}3456{ZW}7890", f"hp {T}"),  # issue 9
    ("0&#56;12-7xxx-7894", T),  # issue 9
    ("+62 812-3456-7890", T),
    ("hubungi 6281234567890", f"hubungi {T}"),
    ("62 812 3456 7890", T),
    ("022-7000123", T),
    ("hp:081234567890", f"hp:{T}"),
    ("hubungi 0812-3456-7890 ya", f"hubungi {T} ya"),
    ("hubungi +62 812 3456 7890 ya", f"hubungi {T} ya"),
    ("wa 081234567890", f"wa {T}"),
    ("0812.3456.7890", T),
    ("0811 234 5678", T),
    ("Telp.021-5551234", f"Telp.{T}"),
    ("kelurahan pada (031) 3714498 yang", f"kelurahan pada {T} yang"),
    ("nomer telpon (0857.3516.0639) ya", f"nomer telpon ({T}) ya"),
    ("081234567890, 081298765432", f"{T}, {T}"),
    ("081234567890 081298765432", f"{T} {T}"),
    ("lahir 1990, 081234567890", f"lahir 1990, {T}"),
    ("０８１２３４５６７８９０", T),  # full-width digits
    ("0812\u00ad3456\u20607890", T),  # soft hyphen, word joiner
    ("0812&#45;3456&#45;7890", T),  # entities as separators
    ("0&amp;#56;12-3456-7890", T),  # doubly escaped
    ("0812-3456-xxxx", T),  # the visible part of a partly hidden number
    ("tel. +1 650-253-0000", f"tel. {T}"),  # any country after a +
    ("(+62) 812 3456 7890", T),
    ("hp ( +62 ) 812 3456 7890", f"hp {T}"),
    ("+62 (0)812 3456 7890", T),
    ("No HP/WA: 0812-3456-7890/0813-1111-2222", f"No HP/WA: {T}/{T}"),
    ("https://wa.me/6281234567890?text=halo", f"https://wa.me/{T}?text=halo"),
    ("call center 08001926666 24 Agt", f"call center {T} 24 Agt"),
    # NIK, NIP and other identity numbers
    ("NIK saya 3273012345678901 mohon dicek", f"NIK saya {N} mohon dicek"),
    ("NIP 198703152010011002 tercatat", f"NIP {N} tercatat"),
    ("NIP 19870315 201001 1 002", f"NIP {N}"),
    ("nomor 3273.0123.4567.8901", f"nomor {N}"),
    ("3273-0123-4567-8901", N),
    ("3273 0123 4567 8901", N),
    ("32.73.01.234567.8901", N),
    (f"3273{ZW}0123{ZW}4567{ZW}8901", N),
    ("NIK3273012345678901", f"NIK{N}"),
    ("NIK ６２７１０１２３４５６７８９０１", f"NIK {N}"),
    ("PBB no35-78-090-004-006-0336-0 ok", f"PBB no{N} ok"),
    ("NISN : 0101652260", f"NISN : {N}"),
    (r"Langit\nNISN : 0101652260\nNIK", rf"Langit\nNISN : {N}\nNIK"),  # literal \n of exports
    ("Nisn. :  0064740563", f"Nisn. :  {N}"),
    ("nik 357i064605850007 knp", f"nik {N} knp"),  # a letter typed for a digit
    ("no bpjs ibu saya 0002238571642", f"no bpjs ibu saya {N}"),
    # e-mail addresses
    ("email budi.santoso@contoh.go.id", f"email {E}"),
    ("SITI.AMINAH@CONTOH.GO.ID", E),
    ("andi7 [at] gmail [dot] com", E),  # issue 9
    ("andi7(at)gmail.com", E),
    ("andi7 at gmail dot com", E),
    ("kirim ke andi7 at gmail.com ya", f"kirim ke {E} ya"),
    ("andi7 (at) yahoo (dot) co (dot) id", E),
    ("andi7{at}mail.com", E),
    ("andi7&#64;gmail.com", E),
    ("andi7＠gmail.com", E),
    (f"andi{ZW}7@gmail.com", E),
    ("email: andi7 @ gmail.com", f"email: {E}"),
    ("email: andi7 @gmail.com", f"email: {E}"),
    ("email: andi7@ contoh.co.id", f"email: {E}"),
    ("budi@contoh.go.id.", f"{E}."),
    # several kinds in one text
    (
        "NIK 3578012345678901, HP 0812-3456-7890, surel siti.aminah@contoh.go.id",
        f"NIK {N}, HP {T}, surel {E}",
    ),
]

KEPT = [
    "jalan rusak sejak 2023, panjang 150 meter",
    "biaya Rp 150.000 untuk 3 bulan",
    "Rp 1.500.000",
    "Rp 1.021.500.000",
    "Rp 62.500.000",
    "menarik Rp. 10.000-15.000",
    "PBB 2.270.740",
    "RT 03 RW 05 Kelurahan Sukamaju",
    "RT.004/006",
    "pukul 08.30 sampai 10.00",
    "jam lebur mulai 08.30-21.00",
    "musik keras pk 00.00-05.00.",
    "jam 1600-1800",
    "tgl 08-12-2022 10.00",
    "tanggal 13-02-2023 14-02-2023",
    "tgl 09 02 2022 sampai sekarang",
    "tgl 13/04/2023 jam 9",
    "tahun 2019 2020 2021 2022",
    "Tanggal Lahir : 04-10-2008",
    "proses 03.01.2023.02.0028",
    "nomor ODS: 01.02.2023.0006.002",
    "No. Kitir : 04022022/41976235",
    "no tiket 30446/MC/l/2023",
    "akta no 3578-KM-02032023-0129.",
    "no laporan 1703391",
    "ID 0123456",
    "tiket 02155555",
    "ID PEL. 511413475047",
    "rumah no 123 - 127",
    "KM 0+800",
    "km 12.500 arah Gresik",
    "luas 119.40 M2",
    "3 x 4 meter",
    "versi 0.123456",
    "nilai 0,5 dan 0.75",
    "titik koordinat : -6.947123456789012, 107.54904684239159",
    "Instagram @teamgukgukguk.official",
    "akun instagram @planetsurfdiskon @orisurf.id, saya",
    "ketemu at kantor kelurahan",
    "meeting at 10.00 di balai RW",
    "NIK : [NIK]\nHP : [TELEPON]",
    "Puskesmas &amp; Posyandu, lebar ２ meter",
]


def test_the_table_is_large_enough() -> None:
    assert len(MASKED) + len(KEPT) >= 60


@pytest.mark.parametrize(("raw", "expected"), MASKED)
def test_masked(raw: str, expected: str) -> None:
    masked = mask_pii(raw)
    assert masked == expected
    assert contains_pii(raw)
    assert not contains_pii(masked)


@pytest.mark.parametrize("raw", KEPT)
def test_kept(raw: str) -> None:
    assert mask_pii(raw) == raw
    assert not contains_pii(raw)


def test_text_outside_a_match_is_kept_as_written() -> None:
    raw = f"x &amp; ０８１２-3456-7890 &amp; {ZW} y\u00a0z"
    assert mask_pii(raw) == f"x &amp; {T} &amp; {ZW} y\u00a0z"


def test_a_match_covers_the_entities_and_invisible_characters_inside_it() -> None:
    raw = f"a 0&#56;12{ZW}3456-7890 b"
    (match,) = find_pii(raw)
    assert (match.kind, raw[match.start : match.end]) == ("phone", f"0&#56;12{ZW}3456-7890")


def test_two_matches_behind_one_character_become_one_token() -> None:
    """NFKC reads "½" as "1⁄2": the 1 ends a phone number and the 2 starts a NIK; the one token
    must cover both, or the rest of the NIK would be left as written."""
    raw = "hp 08123456789\u00bd273012345678901 ok"
    assert [m.kind for m in find_pii(raw)] == ["phone", "nik"]
    assert mask_pii(raw) == f"hp {T} ok"


def test_find_pii_reports_kinds_in_order() -> None:
    found = find_pii("a@b.co 081234567890 3273012345678901")
    assert [m.kind for m in found] == ["email", "phone", "nik"]


def test_text_module_re_exports_the_masking() -> None:
    assert text_module.mask_pii is mask_pii
    assert text_module.contains_pii is contains_pii
    assert text_module.clean_text("Yth. Dinas, hp (022) 7000123") == f"hp {T}"


@pytest.mark.parametrize("value", ["", "tanpa angka"])
def test_nothing_to_mask_returns_the_same_text(value: str) -> None:
    assert mask_pii(value) is value


def test_a_hostile_text_costs_a_bounded_number_of_validations(monkeypatch) -> None:
    """1,000 distinct candidates that phonenumbers rejects, then a real number: the validations
    stop at the budget, and the number after it is still masked (by its shape)."""
    calls: list[str] = []
    real_parse = phonenumbers.parse

    def counting_parse(number: str, region: str | None = None):
        calls.append(number)
        return real_parse(number, region)

    monkeypatch.setattr(pii.phonenumbers, "parse", counting_parse)
    pii._is_phone.cache_clear()
    text = ", ".join(f"01{n:08d}" for n in range(1000)) + ", hp 081234567890"
    masked = mask_pii(text)
    assert 0 < len(calls) <= 64 + len(text) // 100
    assert masked.endswith(f"hp {T}")
    assert "[" not in masked[: -len(f"hp {T}")]  # the rejected candidates were not masked


@pytest.mark.skipif(not SURABAYA.exists(), reason=f"real data absent: {SURABAYA}")
def test_no_date_time_or_money_is_masked_in_the_real_surabaya_file() -> None:
    """Every mask made on the real complaints covers a phone number, NIK or e-mail, not a date,
    a time range or an amount (the old regular expressions masked dozens of those)."""
    not_pii = re.compile(
        r"\d{1,2}[.\-/ ]\d{1,2}[.\-/ ]\d{2,4}|\d{2}[.:]\d{2}\s*-\s*\d{2}[.:]\d{2}|\d+\.000-"
    )
    with SURABAYA.open(encoding="utf-8", newline="") as f:
        texts = [row["keluhan"] for row in csv.DictReader(f) if row["keluhan"]]
    masked = [(m.kind, t[m.start : m.end]) for t in texts for m in find_pii(t)]
    assert len(masked) >= 40
    assert [m for m in masked if not_pii.fullmatch(m[1])] == []
    phones = [s for kind, s in masked if kind == "phone"]
    assert "(031) 3714498" in phones


def test_benchmark_prints_rates_counts_and_differences(tmp_path: Path, capsys) -> None:
    from lapor_triage.evaluation.benchmark_pii import main

    data = tmp_path / "reports.csv"
    rows = ["telp (022) 7000123", "jam 08.30-21.00", "andi7 [at] gmail [dot] com", "biasa"]
    with data.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["keluhan"])
        writer.writerows([r] for r in rows)
    assert main(["--data", str(data), "--column", "keluhan", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "4 texts" in out
    assert re.search(r"new mask_pii\s*:\s*[\d,]+ texts/s", out)
    assert "email old 0 new 1" in out and "phone old 1 new 1" in out
    assert "texts masked differently by the new masking: 3" in out
