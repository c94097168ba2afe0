"""The layering rule (README, "Layers"): imports of our own modules point one way.

    core  ←  models  ←  training  ←  evaluation, datasets (builders)
      ↑         ↑          ↑
      registry client      │
      ↑         ↑          │
      service ─────────────┘ (no: the service never imports training)
    cli on top of everything

Every ``import`` of a ``lapor_triage`` module in our source files (also those inside functions,
and ``importlib.import_module("lapor_triage....")`` with a literal name) is read with ``ast`` and
checked against :data:`ALLOWED`. Hand-written rather than import-linter: forty lines, no new
dependency, and the lazy imports inside functions (the way a forbidden import usually sneaks in)
are counted too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.conftest import ROOT

# Import name of a package → its folder in the checkout (pyproject.toml, [tool.setuptools.package-dir]).
PACKAGE_DIRS = {
    "lapor_triage": "lapor_triage",
    "lapor_triage.models": "models",
    "lapor_triage.training": "training",
    "lapor_triage.evaluation": "evaluation",
    "lapor_triage.service": "service",
    "lapor_triage.datasets": "datasets",
}

# The layer of a module: the first prefix that matches (so lapor_triage.cli before lapor_triage).
LAYER_OF = (
    ("lapor_triage.cli", "cli"),
    ("lapor_triage.__main__", "cli"),
    ("lapor_triage.service", "service"),
    ("lapor_triage.evaluation", "evaluation"),
    ("lapor_triage.datasets", "datasets"),
    ("lapor_triage.training", "training"),
    ("lapor_triage.models", "models"),
    ("lapor_triage.registry_client", "registry client"),
    ("lapor_triage", "core"),  # text, pii, paths, jsonl, labels, records, the version
)

# The layers each layer may import (its own included).
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "models": {"core", "models"},
    "registry client": {"core", "registry client"},
    "training": {"core", "models", "registry client", "training"},
    "evaluation": {"core", "models", "registry client", "training", "evaluation"},
    "datasets": {"core", "models", "registry client", "training", "datasets"},
    "service": {"core", "models", "registry client", "service"},
    "cli": {name for _, name in LAYER_OF},
}


def layer(module: str) -> str:
    for prefix, name in LAYER_OF:
        if module == prefix or module.startswith(prefix + "."):
            return name
    raise ValueError(f"{module} belongs to no layer")


def module_files(package_dirs: Mapping[str, str], root: Path) -> dict[str, Path]:
    """Every module of our packages (dotted name → source file)."""
    out: dict[str, Path] = {}
    for package, folder in package_dirs.items():
        for path in sorted((root / folder).rglob("*.py")):
            rel = path.relative_to(root / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


def imports_of(module: str, path: Path, known: Iterable[str]) -> set[str]:
    """The ``lapor_triage`` modules that ``module`` (source ``path``) imports, wherever it does."""
    known = set(known)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{origin}.{alias.name}"
                found.add(sub if sub in known else origin)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return {m for m in found if m == "lapor_triage" or m.startswith("lapor_triage.")}


def import_graph(package_dirs: Mapping[str, str], root: Path) -> dict[str, set[str]]:
    files = module_files(package_dirs, root)
    return {m: imports_of(m, path, files) for m, path in files.items()}


def violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """One line per import that points the wrong way."""
    out = []
    for module, imported in sorted(graph.items()):
        for target in sorted(imported):
            if layer(target) not in ALLOWED[layer(module)]:
                out.append(f"{module} ({layer(module)}) imports {target} ({layer(target)})")
    return out


# --- the rule holds for our code ------------------------------------------------------------------
def test_our_imports_point_one_way() -> None:
    graph = import_graph(PACKAGE_DIRS, ROOT)
    # the graph really covers the code (a wrong folder map would make this test pass vacuously)
    assert "lapor_triage.service.model_store" in graph and len(graph) > 80
    assert "lapor_triage.registry_client" in graph["lapor_triage.service.model_store"]
    assert violations(graph) == []


def test_every_packaged_folder_is_checked() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = pyproject.split("[tool.setuptools.package-dir]", 1)[1].split("\n[", 1)[0]
    declared = dict(re.findall(r'^"([\w.]+)"\s*=\s*"([\w/.-]+)"', section, re.MULTILINE))
    assert declared == PACKAGE_DIRS


# --- the checker catches what it must -------------------------------------------------------------
def test_the_checker_refuses_forbidden_imports() -> None:
    graph = {
        "lapor_triage.service.model_store": {
            "lapor_triage.models.base",  # allowed
            "lapor_triage.registry_client",  # allowed
            "lapor_triage.training.defaults",  # forbidden: the service trains nothing
        },
        "lapor_triage.jsonl": {"lapor_triage.training.records"},  # forbidden: core imports ours
        "lapor_triage.training.loop": {"lapor_triage.evaluation.metrics"},  # forbidden: a cycle
        "lapor_triage.evaluation.quality": {"lapor_triage.training.data"},  # allowed
        "lapor_triage.models.base": {"lapor_triage.cli"},  # forbidden
        "lapor_triage.registry_client": {"lapor_triage.models.base"},  # forbidden
        "lapor_triage.cli.serve": {"lapor_triage.training.defaults", "lapor_triage.service.main"},
    }
    assert violations(graph) == [
        "lapor_triage.jsonl (core) imports lapor_triage.training.records (training)",
        "lapor_triage.models.base (models) imports lapor_triage.cli (cli)",
        "lapor_triage.registry_client (registry client) imports lapor_triage.models.base (models)",
        "lapor_triage.service.model_store (service) imports lapor_triage.training.defaults "
        "(training)",
        "lapor_triage.training.loop (training) imports lapor_triage.evaluation.metrics "
        "(evaluation)",
    ]


def test_the_graph_sees_lazy_relative_and_submodule_imports(tmp_path: Path) -> None:
    """A synthetic source tree: imports inside functions, relative ones, ``from pkg import mod``
    and ``importlib.import_module`` with a literal name all reach the graph."""
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "__init__.py").write_text("")
    (tmp_path / "core" / "text.py").write_text("import json\n")
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "__init__.py").write_text("")
    (tmp_path / "svc" / "store.py").write_text(
        "from . import helpers\n"
        "from lapor_triage import text\n"
        "def load():\n"
        "    from lapor_triage.training.defaults import ensure_default_models\n"
        "    return ensure_default_models\n"
    )
    (tmp_path / "svc" / "helpers.py").write_text(
        "import importlib\nimportlib.import_module('lapor_triage.training.loop')\n"
    )
    (tmp_path / "trn").mkdir()
    (tmp_path / "trn" / "__init__.py").write_text("")
    (tmp_path / "trn" / "defaults.py").write_text("")
    (tmp_path / "trn" / "loop.py").write_text("")
    dirs = {"lapor_triage": "core", "lapor_triage.service": "svc", "lapor_triage.training": "trn"}
    graph = import_graph(dirs, tmp_path)
    assert graph["lapor_triage.service.store"] == {
        "lapor_triage.service.helpers",
        "lapor_triage.text",
        "lapor_triage.training.defaults",
    }
    assert graph["lapor_triage.service.helpers"] == {"lapor_triage.training.loop"}
    assert violations(graph) == [
        "lapor_triage.service.helpers (service) imports lapor_triage.training.loop (training)",
        "lapor_triage.service.store (service) imports lapor_triage.training.defaults (training)",
    ]
