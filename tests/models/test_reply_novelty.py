"""What a reply adds to its report (new vs echoed items) and whether it names the report's places.

Examples are written here for these tests; none comes from a challenge set.
"""

from __future__ import annotations

import numpy as np

from lapor_triage.models.reply_novelty import (
    ECHO,
    NOVELTY_SIGNAL_NAMES,
    PLACE_SIGNAL_NAMES,
    mask_echo,
    novelty_signals,
    numbers,
    place_signals,
    places,
)

REPORT = "Lampu PJU di Gg. Sawo RT 04 Kelurahan Tegalrejo mati sudah dua minggu, gelap sekali."
ECHO_REPLY = "Terima kasih, laporan lampu PJU mati di Gg. Sawo RT 04 Kelurahan Tegalrejo akan kami cek nanti."
NEW_REPLY = "Lampu di Gg. Sawo sudah diganti petugas UPT PJU Wilayah Timur pada 9 Mei pukul 20.00."
OTHER_PLACE = "Lampu di Gg. Manggis RT 11 Kelurahan Sidomulyo sudah diganti petugas pada 9 Mei."
OTHER_OBJECT = (
    "Saluran air di Gg. Sawo RT 04 Kelurahan Tegalrejo sudah dibersihkan dari sedimen pada 9 Mei."
)


def _sig(report: str, reply: str) -> dict[str, float]:
    return dict(zip(NOVELTY_SIGNAL_NAMES, novelty_signals(report, reply), strict=True))


def _place(report: str, reply: str) -> dict[str, float]:
    return dict(zip(PLACE_SIGNAL_NAMES, place_signals(report, reply), strict=True))


def test_numbers_ignore_leading_zeros() -> None:
    assert numbers("RT 04 RW 011") == {"4", "11"}


def test_places_name_the_word_after_a_place_keyword() -> None:
    assert {"sawo", "4", "tegalr"} <= places(REPORT)
    assert places("jalan rusak parah") == frozenset()  # "rusak" names no place


def test_echoing_the_report_adds_nothing_new() -> None:
    echo, new = _sig(REPORT, ECHO_REPLY), _sig(REPORT, NEW_REPLY)
    assert echo["new_numbers"] == 0.0 and echo["new_places"] == 0.0
    assert echo["echo_places"] > 0 and echo["echo_numbers"] > 0
    assert new["new_numbers"] > 0  # 9 Mei, 20.00
    assert new["new_word_share"] > echo["new_word_share"]
    assert echo["echo_word_share"] > new["echo_word_share"]


def test_the_same_reply_is_all_new_without_a_report() -> None:
    assert _sig("", ECHO_REPLY)["echo_word_share"] == 0.0


def test_mask_echo_hides_what_the_reply_repeats_and_keeps_the_rest() -> None:
    masked = mask_echo(REPORT, ECHO_REPLY)
    assert "Sawo" not in masked and "Tegalrejo" not in masked and "04" not in masked
    assert ECHO in masked
    for kept in ("akan", "kami", "cek", "nanti", "Terima"):
        assert kept in masked
    assert mask_echo("", ECHO_REPLY) == ECHO_REPLY
    assert "9 Mei" in mask_echo(REPORT, NEW_REPLY)


def test_a_reply_about_another_place_conflicts() -> None:
    assert _place(REPORT, OTHER_PLACE)["place_conflict"] == 1.0
    assert _place(REPORT, NEW_REPLY)["place_conflict"] == 0.0
    assert _place(REPORT, NEW_REPLY)["report_places_in_reply"] > 0


def test_a_reply_about_another_object_at_the_same_place() -> None:
    other, same = _place(REPORT, OTHER_OBJECT), _place(REPORT, NEW_REPLY)
    assert other["object_in_reply"] < same["object_in_reply"]
    assert other["report_places_in_reply"] == 1.0


def test_signals_are_finite_on_empty_and_huge_text() -> None:
    huge = "Jl. Anggrek 12 " * 20000
    for report, reply in (("", ""), (huge, huge), (REPORT, "")):
        assert np.isfinite(novelty_signals(report, reply)).all()
        assert np.isfinite(place_signals(report, reply)).all()
