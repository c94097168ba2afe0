import pytest

from lapor_triage.text import clean_text, contains_pii, mask_pii, report_text


@pytest.mark.parametrize(
    ("raw", "token"),
    [
        ("NIK saya 3273012345678901 mohon dicek", "[NIK]"),
        ("NIP 198703152010011002 tercatat", "[NIK]"),
        ("hubungi 0812-3456-7890 ya", "[TELEPON]"),
        ("hubungi +62 812 3456 7890 ya", "[TELEPON]"),
        ("wa 081234567890", "[TELEPON]"),
        ("email budi.santoso@contoh.go.id", "[EMAIL]"),
    ],
)
def test_mask_pii_replaces_personal_data(raw: str, token: str) -> None:
    masked = mask_pii(raw)
    assert token in masked
    assert not contains_pii(masked)


@pytest.mark.parametrize(
    "text",
    [
        "jalan rusak sejak 2023, panjang 150 meter",
        "biaya Rp 150.000 untuk 3 bulan",
        "RT 05 RW 03 Kelurahan Sukamaju",
        "pukul 08.30 sampai 10.00",
    ],
)
def test_mask_pii_keeps_ordinary_numbers(text: str) -> None:
    assert mask_pii(text) == text


def test_clean_text_strips_html_salutation_and_whitespace() -> None:
    raw = "Yth. Dinas Kesehatan Kota Bandung, <br><br>Puskesmas   tutup &amp; tidak ada petugas."
    assert clean_text(raw) == "Puskesmas tutup & tidak ada petugas."


def test_clean_text_keeps_text_without_salutation() -> None:
    assert clean_text("Jalan berlubang di depan pasar.") == "Jalan berlubang di depan pasar."


def test_clean_text_handles_missing_values() -> None:
    assert clean_text(None) == ""
    assert clean_text("nan") == ""
    assert clean_text("  \n ") == ""


def test_report_text_joins_title_and_body() -> None:
    assert (
        report_text("Lampu mati", "Yth. Dishub, lampu jalan mati") == "Lampu mati\nlampu jalan mati"
    )
    assert report_text(None, "isi saja") == "isi saja"


def test_salutation_with_repeated_punctuation() -> None:
    assert clean_text("yth. bpjs.. saya ingin bertanya") == "saya ingin bertanya"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Pemerintah   Kota\nSurabaya ", "Pemerintah Kota Surabaya"),
        ("Kel. Ngagel\tRejo", "Kel. Ngagel Rejo"),
        (" \n\t ", None),
        ("", None),
        (None, None),
    ],
)
def test_one_line(value: str | None, expected: str | None) -> None:
    from lapor_triage.text import one_line

    assert one_line(value) == expected


def test_the_whole_salutation_goes_dots_included() -> None:
    """'Kab.' used to end the salutation and leave 'Bojonegoro,' (half the label) in the text."""
    assert clean_text("Yth. Dinas Sosial Kab. Bojonegoro, <br><br>Pak, bansos saya") == (
        "Pak, bansos saya"
    )
    assert clean_text("Yth. Kepala Dinas PU Kec. Cibiru Kab. Bandung, jalan rusak") == "jalan rusak"


def test_a_dot_that_ends_a_sentence_still_ends_the_salutation() -> None:
    assert clean_text("yth. bpjs.. saya ingin menanyakan,apakah nama berpengaruh") == (
        "saya ingin menanyakan,apakah nama berpengaruh"
    )
    assert clean_text("Yth. Bapak Walikota. Saya melaporkan jalan rusak") == (
        "Saya melaporkan jalan rusak"
    )


def test_one_salutation_reading_for_name_and_end() -> None:
    from lapor_triage.text import read_salutation, salutation_name

    text = "Yth. dinas koperasi dan ukm. Kapan dana bantuan modal turun. Trim,\nTerima kasih"
    sal = read_salutation(text)
    assert (sal.name, sal.how) == ("dinas koperasi dan ukm", "dot")
    assert clean_text(text).startswith("Kapan dana bantuan modal turun")
    assert salutation_name("Yth, BPJS TK Cileungsi Mohon bantuan\nKronologis") == (
        "BPJS TK Cileungsi Mohon bantuan"
    )
    # a greeting on its own line after "Yth," is the salutation too (it named the agency)
    assert clean_text("Kepada yang terhormat,\nDinas Perhubungan\ndi tempat") == "di tempat"
    assert read_salutation("Jalan rusak").name is None


def test_a_greeting_after_the_comma_is_the_message_not_part_of_the_name() -> None:
    from lapor_triage.text import read_salutation

    text = "Yth. Bapak/Ibu Admin LAPOR, Assalamualaikum wr. wb. Izin menyampaikan keluhan."
    assert read_salutation(text).name == "Bapak/Ibu Admin LAPOR"
    assert clean_text(text) == "Assalamualaikum wr. wb. Izin menyampaikan keluhan."
    sal = read_salutation("Yth. Pemerintah Kota Semarang, Saya mau lapor pak, Free wifi mati")
    assert sal.name == "Pemerintah Kota Semarang"
    # Title-Case parts of a name still continue it
    name = read_salutation("Yth. Dinas Koperasi, Usaha Kecil dan Menengah, Kab. Batang Hari,\nisi")
    assert name.name == "Dinas Koperasi, Usaha Kecil dan Menengah, Kab. Batang Hari"
