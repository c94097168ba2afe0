"""Disposition examples: the salutation label, instansi names, kind + region, regional files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lapor_triage.training.data import salutation_agency
from lapor_triage.training.disposition_data import (
    compose,
    load_disposition,
    load_national_posts,
    normalise_instansi,
    region_level,
    split_instansi,
    split_salutation,
)
from lapor_triage.training.labels import AgencyNormaliser
from lapor_triage.training.records import DataError
from tests.conftest import shared_file


def test_salutation_keeps_the_region_after_kab_dot() -> None:
    # The agency loader's salutation pattern used to stop at the first dot ("Dinas Sosial Kab",
    # with "Bojonegoro," left in the text the model sees); both loaders now read the whole line.
    isi = "Yth. Dinas Sosial Kab. Bojonegoro, <br><br>Pak, pendataan PKH kapan?"
    assert salutation_agency(isi) == "Dinas Sosial Kab. Bojonegoro"
    name, rest = split_salutation(isi)
    assert name == "Dinas Sosial Kab. Bojonegoro"
    assert "Bojonegoro" not in rest
    assert rest.endswith("Pak, pendataan PKH kapan?")


def test_a_salutation_running_into_the_message_is_no_label() -> None:
    isi = (
        "Yth. Pemerintah Kota Semarang saya mau lapor pak free wifi di bundaran cinde sudah "
        "seminggu mati mohon bantuan perbaikan, <br><br>terima kasih"
    )
    assert split_salutation(isi) == (None, isi)


def test_no_salutation_gives_none_and_the_whole_text() -> None:
    assert split_salutation("Jalan rusak di depan pasar") == (None, "Jalan rusak di depan pasar")
    assert split_salutation(None) == (None, "")


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Dishub Kota Semarang", "Dinas Perhubungan Kota Semarang"),
        ("DINAS PERHUBUNGAN KOTA SEMARANG", "Dinas Perhubungan Kota Semarang"),
        ("Disdukcapil Kab. Kendal", "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Kendal"),
        ("BPJS Kesehatan Kantor Cabang Sampit", "BPJS Kesehatan KC Sampit"),
        ("bpjs kesehatan kc. sampit", "BPJS Kesehatan KC Sampit"),
        ("BPJS Kesehatan KCU Surabaya", "BPJS Kesehatan KC Surabaya"),
        ("BPJS Kesehatan Padang", "BPJS Kesehatan KC Padang"),
        ("Badan Penyelenggara Jaminan Sosial Kesehatan", "BPJS Kesehatan"),
        ("BPJS Ketenagakerjaan Kacab Karawang", "BPJS Ketenagakerjaan KC Karawang"),
        ("Pemkot Semarang", "Pemerintah Kota Semarang"),
        ("Pemprov DKI Jakarta", "Pemerintah Provinsi DKI Jakarta"),
        ("Dinas Sosial Kabupaten Kabupaten Kendal", "Dinas Sosial Kabupaten Kendal"),
        ("Polri", "Kepolisian Republik Indonesia"),
    ],
)
def test_instansi_names_are_normalised(raw: str, canonical: str) -> None:
    assert normalise_instansi(raw) == canonical


def test_normaliser_keeps_the_raw_spelling_in_its_map() -> None:
    norm = AgencyNormaliser()
    assert normalise_instansi("Dishub Kota Semarang", norm) == "Dinas Perhubungan Kota Semarang"
    assert norm.mapping_["Dishub Kota Semarang"] == "Dinas Perhubungan Kota Semarang"


@pytest.mark.parametrize(
    ("name", "kind", "region", "level"),
    [
        ("Dinas Perhubungan Kota Semarang", "Dinas Perhubungan", "Kota Semarang", "kabkota"),
        ("BPJS Kesehatan KC Sampit", "BPJS Kesehatan", "KC Sampit", "branch"),
        (
            "Kecamatan Pedurungan Kota Semarang",
            "Kecamatan",
            "Pedurungan Kota Semarang",
            "kecamatan",
        ),
        (
            "Dinas Tata Air Provinsi DKI Jakarta",
            "Dinas Tata Air",
            "Provinsi DKI Jakarta",
            "provinsi",
        ),
        ("Kementerian Sosial", "Kementerian Sosial", None, "none"),
        (
            "Pemerintah Kabupaten Maros-Program BPNT Rastra",
            "Pemerintah {}-Program BPNT Rastra",
            "Kabupaten Maros",
            "kabkota",
        ),
    ],
)
def test_kind_and_region(name: str, kind: str, region: str | None, level: str) -> None:
    assert split_instansi(name) == (kind, region)
    assert region_level(region) == level
    assert compose(kind, region) == name


def _posts(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "posts.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "judul", "isi"])
        w.writerows(rows)
    return path


def test_national_posts_label_from_the_salutation_line(tmp_path: Path) -> None:
    path = _posts(
        tmp_path,
        [
            ("1", "Lampu mati", "Yth. Dishub Kota Semarang, <br><br>Kpd Yth, Pak Wali. Lampu mati"),
            ("2", "Tanpa salam", "Jalan rusak"),
            (
                "3",
                "Klaim",
                "Yth. BPJS Kesehatan Kantor Cabang Sampit, <br><br>Klaim ditolak, hub 081234567890",
            ),
        ],
    )
    norm = AgencyNormaliser()
    examples = load_national_posts(path, norm)
    assert [e.label for e in examples] == [
        "Dinas Perhubungan Kota Semarang",
        "BPJS Kesehatan KC Sampit",
    ]
    assert examples[0].meta["kind"] == "Dinas Perhubungan"
    assert examples[0].meta["region"] == "Kota Semarang"
    assert examples[0].meta["label_raw"] == "Dishub Kota Semarang"
    assert "Dishub" not in examples[0].text
    assert "Kpd Yth, Pak Wali" in examples[0].text  # the citizen's own greeting stays
    assert "081234567890" not in examples[1].text  # phone numbers masked
    assert examples[1].row == 4


def test_missing_column_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,judul\n1,x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.csv.*'isi'"):
        load_national_posts(path, AgencyNormaliser())


def test_wrong_field_count_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('id,judul,isi\n1,x,"Yth. Kemensos, <br>a"\n2,y\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"row 3"):
        load_national_posts(path, AgencyNormaliser())


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_disposition([tmp_path / "nope.csv"])


def test_real_national_posts() -> None:
    path = shared_file("lapor_national_posts_2017.csv")
    examples, norm = load_disposition([path])
    assert len(examples) > 1300
    labels = {e.label for e in examples}
    assert "Dinas Sosial Kabupaten Bojonegoro" in labels
    assert "Dinas Sosial Kabupaten" not in labels  # the cut at "Kab." of the agency loader
    assert not any(e.text.lower().startswith("yth") for e in examples)
    assert sum(1 for e in examples if e.meta["region"]) > 0.4 * len(examples)
    assert norm.n_raw >= len(labels)


def test_real_regional_file_gets_its_region() -> None:
    path = shared_file("lapor_export_kota_samarinda_2024.csv")
    examples, _ = load_disposition([path])
    assert examples
    assert all(e.weight < 1.0 for e in examples)
    regional = [e for e in examples if e.label.startswith("Dinas ")]
    assert regional and all(e.label.endswith("Kota Samarinda") for e in regional)


def test_a_sentence_dot_ends_the_label_and_the_question_stays_in_the_text() -> None:
    # Both read as the label before: "Dinas Koperasi dan UKM Kapan Dana Bantuan Modal Turun Trim".
    isi = "Yth. dinas koperasi dan ukm. Kapan dana bantuan modal turun. Trim, <br><br>Terima kasih"
    name, rest = split_salutation(isi)
    assert name == "dinas koperasi dan ukm"
    assert rest.startswith(" Kapan dana bantuan modal turun")
    assert split_salutation("Yth. disnakertrans. Pmbuatan ak-1, <br>tolong")[0] == "disnakertrans"
    # a dot after an abbreviation or between digits does not end the name
    assert split_salutation(
        "Yth. Perum Bulog Divre Sumatera Selatan & Kep. Bangka Belitung, <br>x"
    )[0] == ("Perum Bulog Divre Sumatera Selatan & Kep. Bangka Belitung")


def test_commas_inside_a_title_case_name_are_kept() -> None:
    isi = (
        "Yth. Dinas Koperasi, Usaha Kecil dan Menengah, Perindustrian, Perdagangan Kab. Batang "
        "Hari, <br><br>Pak, modal usaha"
    )
    assert split_salutation(isi)[0] == (
        "Dinas Koperasi, Usaha Kecil dan Menengah, Perindustrian, Perdagangan Kab. Batang Hari"
    )
    assert split_salutation(
        "Yth. Kementerian Koordinator Bidang Politik, Hukum, dan Keamanan, <br>x"
    )[0] == ("Kementerian Koordinator Bidang Politik, Hukum, dan Keamanan")


def test_a_greeting_that_runs_into_the_message_on_its_line_is_no_label() -> None:
    # the citizen's own greeting, not LAPOR!'s form line
    isi = "Yth. Pak Hendi, ini kali kedua saya komplain mengenai AC BRT"
    assert split_salutation(isi) == (None, isi)
