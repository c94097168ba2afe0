"""Report-type normalisation and agency-name canonicalisation."""

from __future__ import annotations

import json
import math

import pytest

from lapor_triage.labels import (
    REPORT_TYPES,
    AgencyNormaliser,
    UnknownLabelError,
    agency_key,
    canonical_agency,
    normalise_report_type,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Pengaduan Berkadar Pengawasan", "pengaduan"),
        ("Pengaduan Tidak Berkadar Pengawasan", "pengaduan"),
        ("  PENGADUAN   tidak berkadar  pengawasan ", "pengaduan"),
        ("Pengaduan", "pengaduan"),
        ("Aspirasi", "aspirasi"),
        ("aspirasi ", "aspirasi"),
        ("Permintaan Informasi", "permintaan_informasi"),
        ("permintaan_informasi", "permintaan_informasi"),
        ("Permintaan-Informasi", "permintaan_informasi"),
    ],
)
def test_report_types_are_normalised(raw: str, expected: str) -> None:
    assert normalise_report_type(raw) == expected
    assert expected in REPORT_TYPES


@pytest.mark.parametrize("raw", [None, "", "   ", float("nan"), "nan", "-"])
def test_empty_report_type_is_a_missing_label(raw: object) -> None:
    assert normalise_report_type(raw) is None


@pytest.mark.parametrize("raw", ["Keluhan", "pengaduan masyarakat umum", "3", "bukan_keluhan"])
def test_unknown_report_type_raises_with_the_value(raw: str) -> None:
    with pytest.raises(UnknownLabelError) as err:
        normalise_report_type(raw)
    assert repr(raw) in str(err.value)
    assert "pengaduan" in str(err.value)


def test_every_normalised_type_is_a_fixed_point() -> None:
    for t in REPORT_TYPES:
        assert normalise_report_type(t) == t


@pytest.mark.parametrize(
    "spellings",
    [
        [
            "Dinas Kesehatan Kab. Bandung",
            "DINAS KESEHATAN KABUPATEN Bandung",
            "dinas kesehatan kab bandung",
        ],
        [
            "Dinas Sosial Kab. Bandung",
            "Dinas Sosial Kabupaten Bandung",
            " Dinas  Sosial\tKab.Bandung ",
        ],
        [
            "Dinas Koperasi, Usaha Kecil dan Menengah Kab. Bandung",
            "Dinas Koperasi Usaha Kecil dan Menengah Kabupaten Bandung",
        ],
        ["SATUAN POLISI PAMONG PRAJA", "Satuan Polisi Pamong Praja", "Satpol PP"],
        ["Dinas Pemuda dan Olah Raga Kab. Bandung", "Dinas Pemuda dan Olahraga Kabupaten Bandung"],
        ["Inspektorat Kab. Bandung", "Inspektorat Daerah Kab. Bandung"],
        ["Kecamatan Baleendah", "Kec. Baleendah", "KECAMATAN BALEENDAH"],
    ],
)
def test_spellings_of_one_agency_collapse(spellings: list[str]) -> None:
    names = {canonical_agency(s) for s in spellings}
    assert len(names) == 1, names


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Dinas Kesehatan Kab. Bandung", "Dinas Kesehatan Kota Bandung"),
        ("Dinas Kesehatan", "Dinas Sosial"),
        ("Kelurahan Wonorejo - Rungkut", "Kelurahan Wonorejo-Tegalsari"),
        ("Kecamatan Bubutan", "Kelurahan Bubutan"),
    ],
)
def test_different_agencies_stay_apart(a: str, b: str) -> None:
    assert canonical_agency(a) != canonical_agency(b)


def test_canonical_names_read_well() -> None:
    assert (
        canonical_agency("DINAS KESEHATAN KABUPATEN Bandung") == "Dinas Kesehatan Kabupaten Bandung"
    )
    name = canonical_agency("dinas penanaman modal dan pelayanan terpadu satu pintu kab. bandung")
    assert name == "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Bandung"
    assert canonical_agency("rsud bhakti dharma husada").startswith("RSUD ")
    assert canonical_agency("bpjs kesehatan kc palangkaraya") == "BPJS Kesehatan KC Palangkaraya"
    assert canonical_agency("  ") == ""
    assert canonical_agency(None) == ""
    assert canonical_agency(math.nan) == ""


@pytest.mark.parametrize(
    "raw",
    [
        "Dinas Komunikasi dan Informatika, Statistik dan Persandian Kab. Bandung",
        "Bagian Pengadaan Barang/Jasa dan Administrasi Pembangunan",
        "Kementerian Energi dan Sumber Daya Mineral (ESDM)",
        "RSUD dr. Mohamad Soewandhie",
        "UPT Puskesmas Soreang II",
    ],
)
def test_canonical_agency_is_idempotent(raw: str) -> None:
    once = canonical_agency(raw)
    assert once
    assert canonical_agency(once) == once
    assert agency_key(once) == agency_key(raw)


def test_normaliser_records_the_map_and_round_trips(tmp_path) -> None:
    norm = AgencyNormaliser(
        aliases={"DALDUKPPA Kab. Bandung": "Dinas Pengendalian Penduduk Kab. Bandung"}
    )
    raws = [
        "Dinas Kesehatan Kab. Bandung",
        "DINAS KESEHATAN KABUPATEN Bandung",
        "Dinas Kesehatan Kab. Bandung",
        "DALDUKPPA Kab. Bandung",
        "",
    ]
    out = [norm(r) for r in raws]
    assert out[0] == out[1] == out[2]
    assert out[3] == "Dinas Pengendalian Penduduk Kabupaten Bandung"
    assert out[4] == ""
    assert norm.n_raw == 3 and norm.n_canonical == 2
    assert norm.counts_["Dinas Kesehatan Kab. Bandung"] == 2
    assert norm.variants[out[0]] == sorted(raws[:2])

    path = norm.save(tmp_path / "agency_map.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["mapping"]["DINAS KESEHATAN KABUPATEN Bandung"] == out[0]
    again = AgencyNormaliser.load(path)
    assert again.mapping_ == norm.mapping_
    assert again.counts_ == norm.counts_
    assert again("DALDUKPPA Kab. Bandung") == out[3]
