"""The shipped demo data (datasets/demo) and the JSON Schemas (datasets/schemas).

Read with the standard library only (csv/json), independent of the project's loaders, so that a
loader bug cannot hide a data bug (the loaders have their own tests on this data).
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lapor_triage.lapor_export import LAPOR_EXPORT_HEADER
from lapor_triage.text import contains_pii, mask_pii
from tests.conftest import DEMO_DIR, ROOT, shared_file

SCHEMA_DIR = ROOT / "datasets" / "schemas"
LAPOR_HEADER = list(LAPOR_EXPORT_HEADER)
KLASIFIKASI = {
    "Pengaduan Berkadar Pengawasan": "pengaduan",
    "Pengaduan Tidak Berkadar Pengawasan": "pengaduan",
    "Aspirasi": "aspirasi",
    "Permintaan Informasi": "permintaan_informasi",
}


# ------------------------------------------------------------------------------ fixtures ---


@pytest.fixture(scope="session")
def export_rows() -> list[list[str]]:
    path = DEMO_DIR / "reports.csv"
    assert path.exists(), f"{path} is missing: run python datasets/demo/build_demo.py"
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="session")
def reports(export_rows: list[list[str]]) -> list[dict[str, str]]:
    header_at = next(i for i, row in enumerate(export_rows) if row and row[0] == "Tracking ID")
    header = export_rows[header_at]
    return [dict(zip(header, row, strict=True)) for row in export_rows[header_at + 1 :]]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    assert path.exists(), f"{path} is missing: run python datasets/demo/build_demo.py"
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def replies() -> list[dict[str, Any]]:
    return read_jsonl(DEMO_DIR / "replies.jsonl")


@pytest.fixture(scope="session")
def feedback() -> list[dict[str, Any]]:
    return read_jsonl(DEMO_DIR / "feedback.jsonl")


@pytest.fixture(scope="session")
def schemas() -> dict[str, dict[str, Any]]:
    found = {
        p.name.removesuffix(".schema.json"): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(SCHEMA_DIR.glob("*.schema.json"))
    }
    assert found, f"no *.schema.json in {SCHEMA_DIR}"
    return found


@pytest.fixture(scope="session")
def reason_groups(schemas: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    return schemas["reply_label"]["x-reason-codes"]


# ---------------------------------------------------------------------- the LAPOR export ---


def test_export_has_the_lapor_layout(export_rows: list[list[str]]) -> None:
    # 10 preamble rows, header on row 11, every row as wide as the header (like the real CSV)
    assert export_rows[10] == LAPOR_HEADER
    assert export_rows[0][:3] == ["Judul Laporan", "", "Laporan Ringkas"]
    labels = [row[0] for row in export_rows[:10]]
    for label in ("Nama Instansi", "Tanggal Generate", "Periode Masuk", "Pengelola"):
        assert label in labels
    assert export_rows[2][2] == "Pemerintah Kota Contoh"
    assert {len(row) for row in export_rows} == {len(LAPOR_HEADER)}


def test_reports_counts_types_and_agencies(reports: list[dict[str, str]]) -> None:
    assert len(reports) >= 400
    assert {r["Klasifikasi Laporan"] for r in reports} == set(KLASIFIKASI)
    types = Counter(KLASIFIKASI[r["Klasifikasi Laporan"]] for r in reports)
    assert set(types) == {"pengaduan", "aspirasi", "permintaan_informasi"}
    assert types["pengaduan"] > len(reports) / 2, types
    assert min(types.values()) >= 40, types
    agencies = Counter(r["Instansi Terdisposisi"] for r in reports)
    assert "" not in agencies
    assert len(agencies) >= 15, agencies
    small = {a: n for a, n in agencies.items() if n < 10}
    assert not small, f"agencies with fewer than 10 reports: {small}"
    # one agency id per agency name and vice versa
    pairs = {(r["ID Instansi Terdisposisi"], r["Instansi Terdisposisi"]) for r in reports}
    assert len(pairs) == len(agencies) == len({i for i, _ in pairs})


def test_reports_have_no_duplicates(reports: list[dict[str, str]]) -> None:
    ids = [r["Tracking ID"] for r in reports]
    assert len(set(ids)) == len(ids)
    bodies = [r["Isi Laporan Awal"] for r in reports]
    texts = [f"{r['Judul Laporan']}\n{r['Isi Laporan Awal']}" for r in reports]
    assert len(set(bodies)) == len(bodies), [b for b, n in Counter(bodies).items() if n > 1][:3]
    assert len(set(texts)) == len(texts)
    assert all(r["Judul Laporan"].strip() and r["Isi Laporan Awal"].strip() for r in reports)


def test_report_dates_spread_over_2024_in_export_order(reports: list[dict[str, str]]) -> None:
    dates = [dt.datetime.strptime(r["Tanggal Laporan Masuk"], "%d %b %Y").date() for r in reports]
    assert {d.year for d in dates} == {2024}
    assert len({d.month for d in dates}) == 12
    assert dates == sorted(dates)
    assert all(re.fullmatch(r"\d{2}:\d{2}:\d{2}", r["Waktu Laporan Masuk"]) for r in reports)
    ids = [int(r["Tracking ID"]) for r in reports]
    assert ids == sorted(ids)


def test_reports_mix_registers_salutations_and_personal_data(
    reports: list[dict[str, str]],
) -> None:
    bodies = [r["Isi Laporan Awal"] for r in reports]
    lowered = " ".join(bodies).lower()
    for chat in ("yg", "udh", "gak", "min", "tolong"):
        assert re.search(rf"\b{chat}\b", lowered), chat
    for formal in ("dengan hormat", "mohon", "ditindaklanjuti"):
        assert formal in lowered, formal
    assert sum(b.startswith("Yth. ") for b in bodies) >= 20
    assert sum("[TELEPON]" in b for b in bodies) >= 5
    assert sum("[NIK]" in b for b in bodies) >= 5
    raw = [b for b in bodies if contains_pii(b)]
    assert len(raw) >= 3, "a few raw (fake) phone numbers / e-mails should exercise masking"
    for body in raw:
        assert not contains_pii(mask_pii(body))
        for email in re.findall(r"[\w.+-]+@[\w.-]+", body):
            assert email.split("@")[1].startswith("example."), f"not a reserved domain: {email}"
    # the admin-edited copy never keeps personal data
    assert not [r["Tracking ID"] for r in reports if contains_pii(r["Isi Laporan Akhir"])]


def test_location_columns_name_the_kecamatan_office(reports: list[dict[str, str]]) -> None:
    office = [r for r in reports if r["Instansi Terdisposisi"].startswith("Kecamatan ")]
    assert office, "the demo should route some reports to a kecamatan office"
    with_location = [r for r in office if r["Kecamatan"]]
    assert len(with_location) >= 0.7 * len(office)
    for r in with_location:
        assert r["Instansi Terdisposisi"].upper().endswith(r["Kecamatan"])


def test_demo_is_learnable_but_not_trivially_separable(reports: list[dict[str, str]]) -> None:
    """A plain TF-IDF + linear model on 80% clearly beats chance on the rest (the demo is good
    enough to train the first-run default models); the figures are not a quality claim."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    texts = [f"{r['Judul Laporan']}\n{r['Isi Laporan Awal']}" for r in reports]
    types = [KLASIFIKASI[r["Klasifikasi Laporan"]] for r in reports]
    agencies = [r["Instansi Terdisposisi"] for r in reports]
    for labels, metric, floor in ((types, "macro_f1", 0.7), (agencies, "accuracy", 0.7)):
        x_tr, x_te, y_tr, y_te = train_test_split(
            texts, labels, test_size=0.2, random_state=0, stratify=labels
        )
        model = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LinearSVC(random_state=0)
        )
        predicted = model.fit(x_tr, y_tr).predict(x_te)
        if metric == "macro_f1":
            score = f1_score(y_te, predicted, average="macro")
        else:
            score = accuracy_score(y_te, predicted)
        assert score >= floor, f"{metric} {score:.3f} < {floor}"
    # the type labels keep some of the real exports' inconsistency: not every "Aspirasi" is a
    # proposal, so a perfect type classifier would mean the texts are too clean
    assert any(
        "usul" not in t.lower() for t, y in zip(texts, types, strict=True) if y == "aspirasi"
    )


# --------------------------------------------------------------------------------- replies ---


def test_replies_cover_every_reason_code_with_consistent_labels(
    replies: list[dict[str, Any]], reason_groups: dict[str, list[str]]
) -> None:
    assert len(replies) >= 120
    group_of = {code: label for label, codes in reason_groups.items() for code in codes}
    counts = Counter(code for r in replies for code in r["reasons"])
    assert set(counts) == set(group_of)
    assert min(counts.values()) >= 5, counts
    for r in replies:
        assert r["label"] in ("normatif", "substantif")
        assert r["reasons"], r["id"]
        wrong = [c for c in r["reasons"] if group_of[c] != r["label"]]
        assert not wrong, f"{r['id']}: {r['label']} with {wrong}"
    labels = Counter(r["label"] for r in replies)
    assert min(labels.values()) >= 0.3 * len(replies), labels


def test_replies_answer_demo_reports(
    replies: list[dict[str, Any]], reports: list[dict[str, str]]
) -> None:
    by_id = {r["Tracking ID"]: r for r in reports}
    assert len({r["id"] for r in replies}) == len(replies)
    assert len({r["reply_text"] for r in replies}) == len(replies)
    for r in replies:
        assert r["report_source"] == "demo/reports.csv"
        report = by_id.get(r["report_id"])
        assert report is not None, f"{r['id']}: unknown report {r['report_id']}"
        assert r["agency"] == report["Instansi Terdisposisi"]
        assert r["report_text"].startswith(report["Judul Laporan"])
        assert not contains_pii(r["report_text"]) and not contains_pii(r["reply_text"])
    # every agency has replies, so monev-style per-agency views have something to show
    assert len({r["agency"] for r in replies}) >= 15


def test_information_answers_go_to_information_requests(
    replies: list[dict[str, Any]], reports: list[dict[str, str]]
) -> None:
    kind = {r["Tracking ID"]: r["Klasifikasi Laporan"] for r in reports}
    informed = [r for r in replies if "informasi_diminta" in r["reasons"]]
    assert informed
    share = sum(kind[r["report_id"]] == "Permintaan Informasi" for r in informed) / len(informed)
    assert share >= 0.8, share


# --------------------------------------------------------------------------------- schemas ---

# Keywords the structural validator below understands; every schema must stay within them so the
# fallback check is complete where the jsonschema package is not installed.
ANNOTATIONS = {"$schema", "title", "description", "examples", "format", "x-reason-codes"}
SUPPORTED = ANNOTATIONS | {
    "type",
    "enum",
    "const",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minItems",
    "uniqueItems",
    "minProperties",
    "pattern",
    "minimum",
    "maximum",
    "anyOf",
    "allOf",
    "if",
    "then",
}
TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def keywords(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key == "properties":
                for sub in value.values():
                    found |= keywords(sub)
            elif key in ("items", "additionalProperties", "if", "then"):
                found |= keywords(value)
            elif key in ("anyOf", "allOf"):
                for sub in value:
                    found |= keywords(sub)
    return found


def is_type(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, TYPES[name])


def structural_errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """A small JSON Schema validator for the keywords in SUPPORTED."""
    errors: list[str] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(is_type(value, n) for n in names):
            return [f"{path}: {value!r} is not {names}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} != {schema['const']!r}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: does not match {schema['pattern']}")
    if is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: missing {key!r}")
        if len(value) < schema.get("minProperties", 0):
            errors.append(f"{path}: fewer than {schema['minProperties']} properties")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                errors += structural_errors(item, props[key], f"{path}.{key}")
            elif extra is False:
                errors.append(f"{path}: unexpected {key!r}")
            elif isinstance(extra, dict):
                errors += structural_errors(item, extra, f"{path}.{key}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        if schema.get("uniqueItems") and len({json.dumps(v) for v in value}) < len(value):
            errors.append(f"{path}: items are not unique")
        if "items" in schema:
            for i, item in enumerate(value):
                errors += structural_errors(item, schema["items"], f"{path}[{i}]")
    if "anyOf" in schema and all(structural_errors(value, s, path) for s in schema["anyOf"]):
        errors.append(f"{path}: matches none of anyOf")
    for sub in schema.get("allOf", []):
        errors += structural_errors(value, sub, path)
    if "if" in schema and not structural_errors(value, schema["if"], path):
        errors += structural_errors(value, schema.get("then", {}), path)
    return errors


def schema_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """Structural errors, cross-checked with the jsonschema package where it is installed."""
    errors = structural_errors(value, schema)
    try:
        from jsonschema import Draft202012Validator
    except ImportError:  # pragma: no cover - jsonschema comes with mlflow
        return errors
    official = [e.message for e in Draft202012Validator(schema).iter_errors(value)]
    assert bool(official) == bool(errors), (value, errors, official)
    return errors


EXPECTED_SCHEMAS = {
    "report_prediction_input",
    "report_prediction_output",
    "reply_prediction_input",
    "reply_prediction_output",
    "feedback_export",
    "reply_label",
}


def test_schemas_are_valid_json_schema(schemas: dict[str, dict[str, Any]]) -> None:
    assert EXPECTED_SCHEMAS <= set(schemas)
    for name, schema in schemas.items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        assert schema["type"] == "object" and schema.get("title") and schema.get("description")
        unknown = keywords(schema) - SUPPORTED
        assert not unknown, f"{name}: keywords outside the structural validator: {unknown}"
        assert set(schema["required"]) <= set(schema["properties"]), name
        for example in schema.get("examples", []):
            assert not schema_errors(example, schema), (name, example)
    try:
        from jsonschema import Draft202012Validator
    except ImportError:  # pragma: no cover
        return
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)


def test_schemas_are_documented(schemas: dict[str, dict[str, Any]]) -> None:
    readme = (SCHEMA_DIR / "README.md").read_text(encoding="utf-8")
    for name in schemas:
        assert f"`{name}.schema.json`" in readme, name


def test_demo_feedback_rows_validate(
    feedback: list[dict[str, Any]], schemas: dict[str, dict[str, Any]]
) -> None:
    assert 15 <= len(feedback) <= 30
    for n, row in enumerate(feedback, 1):
        assert not schema_errors(row, schemas["feedback_export"]), (n, row)
    kinds = Counter((r["kind"], r["decision"]) for r in feedback)
    assert kinds[("triage", "accepted")] and kinds[("triage", "overridden")]
    assert sum(n for (kind, _), n in kinds.items() if kind == "reply") >= 3


def test_demo_replies_validate(
    replies: list[dict[str, Any]], schemas: dict[str, dict[str, Any]]
) -> None:
    for row in replies:
        assert not schema_errors(row, schemas["reply_label"]), row["id"]


def test_schemas_reject_bad_rows(
    feedback: list[dict[str, Any]],
    replies: list[dict[str, Any]],
    schemas: dict[str, dict[str, Any]],
) -> None:
    triage = next(r for r in feedback if r["kind"] == "triage")
    reply = next(r for r in feedback if r["kind"] == "reply")
    normatif = next(r for r in replies if r["label"] == "normatif")
    bad = [
        ("feedback_export", {**triage, "reply_text": "Sudah kami tambal."}),
        ("feedback_export", {**triage, "decision": None}),
        ("feedback_export", {**triage, "report_type": "keluhan"}),
        ("feedback_export", {**reply, "reply_label": None}),
        ("feedback_export", {**triage, "extra": 1}),
        ("feedback_export", {k: v for k, v in triage.items() if k != "weight"}),
        ("reply_label", {**normatif, "reasons": ["tindakan_konkret"]}),
        ("reply_label", {**normatif, "reasons": []}),
        ("reply_label", {**normatif, "label": "netral"}),
        ("reply_label", {**normatif, "reply_text": "   "}),
        ("report_prediction_input", {"id": 1}),
        ("report_prediction_input", {"id": 1, "text": " "}),
        ("report_prediction_input", {"text": "jalan rusak"}),
        ("reply_prediction_input", {"id": 1, "reply_text": "Sudah ditambal."}),
        ("reply_prediction_output", {"id": 1, "label": "substantif", "reasons": []}),
        ("report_prediction_output", {"id": 1, "label": "x", "probabilities": {"x": 1.5}}),
    ]
    for name, row in bad:
        assert schema_errors(row, schemas[name]), (name, row)
    good = [
        ("report_prediction_input", {"id": "a", "judul": "Air mati", "isi": "air pdam mati"}),
        ("reply_prediction_input", {"id": 2, "report_text": "x", "reply_text": "y"}),
        (
            "report_prediction_output",
            {
                "id": 1,
                "label": "Dinas Sosial",
                "probabilities": {"Dinas Sosial": 0.4},
                "abstain": True,
            },
        ),
    ]
    for name, row in good:
        assert not schema_errors(row, schemas[name]), (name, row)


def test_feedback_schema_matches_the_service_export(schemas: dict[str, dict[str, Any]]) -> None:
    """The schema describes what the service writes (service/routers/feedback.py)."""
    from lapor_triage.service.routers import feedback as feedback_router

    created = dt.datetime(2024, 3, 5, 8, 30, tzinfo=dt.timezone.utc)
    rows = [
        SimpleNamespace(
            kind="triage",
            level="disposition",
            report_id="LAP-1",
            text="Jalan berlubang di Jl. Melati",
            report_type="pengaduan",
            agency="Dinas Pekerjaan Umum dan Penataan Ruang",
            decision="overridden",
            reply_text=None,
            reply_label=None,
            created_at=created,
            weight=1.0,
            kecamatan="Gubeng",
            kelurahan=None,
            penerima="Pemerintah Kota Contoh",
        ),
        SimpleNamespace(
            kind="reply",
            level=None,
            report_id="LAP-2",
            text="Lampu PJU mati",
            report_type=None,
            agency="Dinas Perhubungan",
            decision=None,
            reply_text="Lampu sudah kami ganti kemarin.",
            reply_label="substantif",
            created_at=created,
            weight=2.0,
            kecamatan=None,
            kelurahan=None,
            penerima=None,
        ),
    ]
    for row in rows:
        exported = feedback_router.export_row(row)
        assert not schema_errors(exported, schemas["feedback_export"]), exported
        assert set(exported) == set(schemas["feedback_export"]["properties"]), exported


def test_reason_codes_match_the_guideline(reason_groups: dict[str, list[str]]) -> None:
    guideline = shared_file("replies/GUIDELINE.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", guideline, flags=re.MULTILINE)
    for label in ("substantif", "normatif"):
        section = next(s for s in sections if s.startswith(label))
        codes = re.findall(r"^- `([a-z_]+)`", section, flags=re.MULTILINE)
        assert sorted(codes) == sorted(reason_groups[label]), label


def test_real_labelled_replies_fit_the_schema(schemas: dict[str, dict[str, Any]]) -> None:
    folder = shared_file("replies")
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        pytest.skip(f"no labelled replies in {folder}")
    for path in files:
        for n, row in enumerate(read_jsonl(path), 1):
            errors = structural_errors(row, schemas["reply_label"])
            assert not errors, f"{path.name} row {n}: {errors[:3]}"


# ------------------------------------------------------------------------- reproducibility ---


def load_generator() -> Any:
    """Import datasets/demo/build_demo.py (a script: datasets/ is not a package)."""
    name = "_lapor_triage_build_demo"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, DEMO_DIR / "build_demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    """The committed files are exactly what build_demo.py writes (pieces edited → regenerate)."""
    build_demo = load_generator()
    assert build_demo.main(["--out", str(tmp_path)]) == 0
    for name in ("reports.csv", "replies.jsonl", "feedback.jsonl"):
        assert (tmp_path / name).read_bytes() == (DEMO_DIR / name).read_bytes(), (
            f"{name} differs from the generator's output: run python datasets/demo/build_demo.py"
        )


def test_data_card_tables_are_current(reports: list[dict[str, str]]) -> None:
    card = (DEMO_DIR / "README.md").read_text(encoding="utf-8")
    types = Counter(KLASIFIKASI[r["Klasifikasi Laporan"]] for r in reports)
    assert f"{len(reports)} reports, {len(reports)} distinct texts" in card
    for label, count in types.items():
        assert re.search(rf"^\| {label} \| {count} \|", card, flags=re.MULTILINE), label
    for agency, count in Counter(r["Instansi Terdisposisi"] for r in reports).items():
        assert re.search(rf"^\| {re.escape(agency)} \| {count} \|", card, flags=re.MULTILINE)
