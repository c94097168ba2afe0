"""Instansi names as *kind* + optional *region* or branch (``Dinas Perhubungan`` + ``Kota
Semarang``; ``BPJS Kesehatan`` + ``KC Sampit``), and back.

Shared by the disposition model (``lapor_triage.models.disposition``) and its loader
(``lapor_triage.training.disposition_data``): a models-layer module, so the model does not import
training code.
"""

from __future__ import annotations

import re

_OFFICE_RE = re.compile(r"^(Kecamatan|Kelurahan|Desa)\s+(.+)$")
_BRANCH_RE = re.compile(r"^(.*?)\s+KC\s+(.+)$")
_BPJS_PLACE_RE = re.compile(r"^(BPJS (?:Kesehatan|Ketenagakerjaan))\s+(?!KC\b)(.+)$")
_PROGRAM_RE = re.compile(r"^(.*?\S)\s*-\s*(Program\b.+)$")
_REGION_RE = re.compile(r"^(.*?\S)\s+((?:Kota|Kabupaten|Provinsi)\s+\S.*)$")


def _tidy(name: str) -> str:
    """``Kabupaten Kabupaten Kendal`` -> ``Kabupaten Kendal``; ``BPJS Kesehatan Padang`` ->
    ``BPJS Kesehatan KC Padang`` (a BPJS office named by its city is that city's branch)."""
    name = re.sub(r"\b(Kabupaten|Kota|Provinsi)(?: \1\b)+", r"\1", name)
    if m := _BPJS_PLACE_RE.match(name):
        name = f"{m.group(1)} KC {m.group(2)}"
    return name


def split_instansi(name: str) -> tuple[str, str | None]:
    """``(kind, region)`` of a canonical instansi name; region is None for national/region-free.

    ``Dinas Perhubungan Kota Semarang`` -> ``("Dinas Perhubungan", "Kota Semarang")``;
    ``BPJS Kesehatan KC Sampit`` -> ``("BPJS Kesehatan", "KC Sampit")``;
    ``Kecamatan Pedurungan Kota Semarang`` -> ``("Kecamatan", "Pedurungan Kota Semarang")``;
    ``Kementerian Sosial`` -> ``("Kementerian Sosial", None)``.
    """
    name = " ".join(name.split())
    if m := _PROGRAM_RE.match(name):  # "Pemerintah Kota X-Program BPNT Rastra"
        kind, region = split_instansi(m.group(1))
        return f"{kind} {{}}-{m.group(2)}" if region else name, region
    if m := _OFFICE_RE.match(name):
        return m.group(1), m.group(2)
    if m := _BRANCH_RE.match(name):
        return m.group(1), f"KC {m.group(2)}"
    if m := _BPJS_PLACE_RE.match(name):
        return m.group(1), f"KC {m.group(2)}"
    if m := _REGION_RE.match(name):
        return m.group(1), m.group(2)
    return name, None


def region_level(region: str | None) -> str:
    """``none`` / ``kecamatan`` / ``branch`` / ``provinsi`` / ``kabkota`` for a region string.

    Kecamatan and kelurahan offices are both ``kecamatan``-level regions ("<place> <Kota X>")."""
    if not region:
        return "none"
    if region.startswith("KC "):
        return "branch"
    if region.startswith("Provinsi "):
        return "provinsi"
    if region.startswith(("Kota ", "Kabupaten ")):
        return "kabkota"
    return "kecamatan"


def compose(kind: str, region: str | None) -> str:
    """The instansi name of a kind and a region: the inverse of :func:`split_instansi`."""
    if "{}" in kind:
        return kind.replace(" {}", f" {region}" if region else "")
    return kind if not region else f"{kind} {region}"
