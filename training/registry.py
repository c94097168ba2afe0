"""The model registry: versions of ``lapor-triage-<task>``, the ``champion`` alias, gated promotion.

``promote`` moves ``champion`` to a candidate version only if, re-scored on the SAME evaluation
data as the current champion (the gate part logged with the candidate's run: rows neither model
was fitted on; or data given), the candidate is not worse on the task's primary metric by more
than ``margin`` (the paired bootstrap interval of the difference is shown). ``force=True``
overrides a refusal; the override is recorded as tags and in the version's description (who,
when, why, and the comparison).
"""

from __future__ import annotations

import getpass
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lapor_triage.models.base import Predictor, load_model
from lapor_triage.registry_client import (  # the read side: one copy, shared with the service
    RegistryError,
    VersionInfo,
    get_by_alias,
    get_champion,
    get_version,
    model_folder,
)
from lapor_triage.registry_client import version_info as _version_info
from lapor_triage.training.tracking import (
    EVAL_SPLIT_ARTIFACT,
    get_client,
    read_eval_split,
    registered_model_name,
    tracking_uri,
)

CHAMPION = "champion"
DEFAULT_MARGIN = 0.01
KEY_METRICS = ("accuracy", "macro_f1", "top1_accuracy", "top3_accuracy")
DEFAULT_PRIMARY = {
    "report-type": "macro_f1",
    "agency": "top1_accuracy",
    "reply-quality": "macro_f1",
    "disposition": "top1_accuracy",
}
USER_ENV = "LAPOR_TRIAGE_USER"


@dataclass
class PromotionResult:
    """The outcome of ``promote``, with the side-by-side comparison when there was a champion."""

    task: str
    version: int
    promoted: bool
    forced: bool
    message: str
    primary_metric: str
    margin: float
    previous_champion: int | None = None
    candidate_metrics: dict[str, float] = field(default_factory=dict)
    champion_metrics: dict[str, float] = field(default_factory=dict)
    n_eval: int = 0
    eval_source: str = ""
    delta_low: float | None = None  # paired bootstrap 95 % interval of candidate - champion
    delta_high: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def delta(self) -> float | None:
        c = self.candidate_metrics.get(self.primary_metric)
        p = self.champion_metrics.get(self.primary_metric)
        return None if c is None or p is None else c - p

    def comparison_rows(self) -> list[tuple[str, str, str, str]]:
        """(metric, champion, candidate, delta) rows, primary metric first."""
        names = [self.primary_metric] + [
            m
            for m in KEY_METRICS
            if m != self.primary_metric
            and (m in self.candidate_metrics or m in self.champion_metrics)
        ]
        rows = []
        for m in names:
            c = self.candidate_metrics.get(m)
            p = self.champion_metrics.get(m)
            d = "" if c is None or p is None else f"{c - p:+.4f}"
            rows.append((m, _fmt(p), _fmt(c), d))
        return rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "version": self.version,
            "promoted": self.promoted,
            "forced": self.forced,
            "message": self.message,
            "primary_metric": self.primary_metric,
            "margin": self.margin,
            "previous_champion": self.previous_champion,
            "candidate_metrics": self.candidate_metrics,
            "champion_metrics": self.champion_metrics,
            "n_eval": self.n_eval,
            "eval_source": self.eval_source,
            "delta_ci95": None if self.delta_low is None else [self.delta_low, self.delta_high],
            "notes": list(self.notes),
        }


# --- registration and listing -----------------------------------------------------------------
def register(
    model_uri: str,
    task: str,
    *,
    run_id: str | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    uri: str | None = None,
) -> int:
    """Register ``model_uri`` as a new version of ``lapor-triage-<task>``; return the version."""
    from mlflow.exceptions import MlflowException

    client = get_client(uri)
    name = registered_model_name(task)
    try:
        client.get_registered_model(name)
    except MlflowException:
        try:
            client.create_registered_model(
                name,
                tags={"lapor_triage.task": task},
                description=f"lapor-triage {task} models. The `{CHAMPION}` alias is what serves.",
            )
        except MlflowException:  # created concurrently
            pass
    mv = client.create_model_version(
        name,
        model_uri,
        run_id=run_id,
        tags={k: str(v) for k, v in (tags or {}).items()},
        description=description,
    )
    _wait_ready(client, name, mv.version)
    return int(mv.version)


def list_versions(task: str, uri: str | None = None) -> list[VersionInfo]:
    """All versions of ``lapor-triage-<task>`` (newest first) with their run's key metrics."""
    client = get_client(uri)
    name = registered_model_name(task)
    from mlflow.exceptions import MlflowException

    try:
        aliases = dict(client.get_registered_model(name).aliases or {})
    except MlflowException:
        return []  # nothing registered yet
    by_version: dict[str, list[str]] = {}
    for alias, v in aliases.items():
        by_version.setdefault(str(v), []).append(alias)
    out = []
    for mv in client.search_model_versions(f"name = '{name}'"):
        info = _version_info(client, task, mv)
        info.aliases = sorted(set(info.aliases) | set(by_version.get(str(mv.version), [])))
        out.append(info)
    return sorted(out, key=lambda v: v.version, reverse=True)


# --- loading ------------------------------------------------------------------------------------
def load_model_by_alias(
    task: str, alias: str = CHAMPION, uri: str | None = None, cache_dir: Path | None = None
) -> Predictor:
    """The lapor-triage predictor behind ``lapor-triage-<task>@<alias>``."""
    info = get_by_alias(task, alias, uri)
    if info is None:
        raise RegistryError(
            f"{registered_model_name(task)} has no version with alias {alias!r} "
            f"(tracking store {tracking_uri(uri)}); train one and `lapor-triage promote` it"
        )
    return load_version(task, info.version, uri=uri, cache_dir=cache_dir)


def load_champion(task: str, uri: str | None = None, cache_dir: Path | None = None) -> Predictor:
    return load_model_by_alias(task, CHAMPION, uri=uri, cache_dir=cache_dir)


def load_version(
    task: str, version: int | str, uri: str | None = None, cache_dir: Path | None = None
) -> Predictor:
    """The lapor-triage predictor of one registered version (artifacts cached locally)."""
    return load_model(model_folder(task, version, uri=uri, cache_dir=cache_dir))


# --- promotion ----------------------------------------------------------------------------------
def load_eval_split(task: str, version: int | str, uri: str | None = None) -> tuple[list, list]:
    """The evaluation split logged with a version's run: (records, labels)."""
    import mlflow.artifacts

    info = get_version(task, version, uri)
    if not info.run_id:
        raise RegistryError(f"{registered_model_name(task)} version {version} has no run")
    try:
        text = mlflow.artifacts.load_text(f"runs:/{info.run_id}/{EVAL_SPLIT_ARTIFACT}")
    except Exception as exc:
        raise RegistryError(
            f"{registered_model_name(task)} version {version}: run {info.run_id} logged no "
            f"evaluation split ({EVAL_SPLIT_ARTIFACT}); pass evaluation data explicitly"
        ) from exc
    return read_eval_split(text, f"runs:/{info.run_id}/{EVAL_SPLIT_ARTIFACT}")


def score(predictor: Predictor, records: Sequence[Any], labels: Sequence[str]) -> dict[str, float]:
    """Metrics of ``predictor`` on labelled records, computed as at training time.

    Uses ``training.loop.evaluate_predictor`` (the training-time scorer). Labels a model never saw
    count as errors.
    """
    from lapor_triage.training.loop import evaluate_predictor

    metrics, _ = evaluate_predictor(predictor, list(records), [str(y) for y in labels], None)
    return {k: float(v) for k, v in metrics.items() if _is_number(v)}


def top_labels(predictor: Predictor, records: Sequence[Any]) -> list[str]:
    """The top-1 label of ``predictor`` for each record."""
    classes = [str(c) for c in predictor.classes_]
    return [classes[i] for i in predictor.predict_proba(list(records)).argmax(axis=1)]


def gate_fraction_of(info: VersionInfo, uri: str | None = None) -> float:
    """The gate fraction a version's run was trained with (0 for runs from before the gate)."""
    if not info.run_id:
        return 0.0
    try:
        params = get_client(uri).get_run(info.run_id).data.params
    except Exception:  # run deleted
        return 0.0
    try:
        return float(params.get("config.gate_fraction", 0.0))
    except ValueError:
        return 0.0


def gate_notes(
    candidate: VersionInfo, champion: VersionInfo, cand_gate: float, champ_gate: float
) -> list[str]:
    """Warnings when the comparison rows may have been seen by one of the models in training."""
    notes = []
    if not cand_gate:
        notes.append(
            f"version {candidate.version} was trained without a gate part: the comparison rows "
            "are its own evaluation split, which a refit_full model was fitted on"
        )
    elif champ_gate < cand_gate:
        notes.append(
            f"champion version {champion.version} was trained with "
            f"{'no gate' if not champ_gate else f'a smaller gate ({champ_gate})'}: it may have "
            "been fitted on some comparison rows, so its figure may be too high"
        )
    return notes


def promote(
    task: str,
    version: int | str,
    margin: float = DEFAULT_MARGIN,
    force: bool = False,
    eval_data: tuple[Sequence[Any], Sequence[str]] | None = None,
    *,
    reason: str | None = None,
    user: str | None = None,
    uri: str | None = None,
) -> PromotionResult:
    """Move ``champion`` to ``version`` if it is not worse than the champion by more than ``margin``.

    Both models are re-scored on the same data: ``eval_data`` (records, labels) when given, else
    the candidate run's logged evaluation split, which is the *gate part* (rows chosen by a stable
    hash of the report id and kept out of every training run, ``refit_full`` included) whenever
    the run had one. The difference comes with a paired bootstrap 95 % interval; the rule is
    the point difference ≥ ``-margin``. No champion yet → promotes.
    """
    client = get_client(uri)
    name = registered_model_name(task)
    candidate = get_version(task, version, uri)
    champion = get_champion(task, uri)
    primary = candidate.primary_metric
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    who = user or os.environ.get(USER_ENV) or _login()

    base = {
        "task": task,
        "version": candidate.version,
        "primary_metric": primary,
        "margin": margin,
    }
    if champion is not None and champion.version == candidate.version:
        return PromotionResult(
            **base,
            promoted=True,
            forced=False,
            previous_champion=champion.version,
            message=f"{name} version {candidate.version} already is the champion",
        )
    if champion is None:
        result = PromotionResult(
            **base,
            promoted=True,
            forced=False,
            message=f"{name} has no champion yet: version {candidate.version} becomes champion",
        )
    else:
        notes: list[str] = []
        if eval_data is not None:
            records, labels = list(eval_data[0]), [str(y) for y in eval_data[1]]
            source = "given evaluation data"
        else:
            records, labels = load_eval_split(task, candidate.version, uri)
            cand_gate = gate_fraction_of(candidate, uri)
            what = ", the gate part: rows no gated run trains on" if cand_gate else ""
            source = (
                f"evaluation split of version {candidate.version}{what} (run {candidate.run_id})"
            )
            notes += gate_notes(candidate, champion, cand_gate, gate_fraction_of(champion, uri))
        if not records:
            raise RegistryError("the evaluation data is empty: nothing to compare the models on")
        cand_model = load_version(task, candidate.version, uri)
        champ_model = load_version(task, champion.version, uri)
        cand_metrics = score(cand_model, records, labels)
        champ_metrics = score(champ_model, records, labels)
        if primary not in cand_metrics or primary not in champ_metrics:
            raise RegistryError(
                f"primary metric {primary!r} was not computed on the evaluation data "
                f"(have: {', '.join(sorted(cand_metrics))})"
            )
        delta = cand_metrics[primary] - champ_metrics[primary]
        low = high = None
        try:
            from lapor_triage.training.metrics import paired_bootstrap

            paired = paired_bootstrap(
                labels,
                top_labels(champ_model, records),
                top_labels(cand_model, records),
                metric=primary,
            )
            low, high = paired["low"], paired["high"]
        except KeyError:  # a primary metric the paired bootstrap does not cover
            notes.append(f"no paired interval for {primary}")
        ok = delta >= -margin - 1e-12
        interval = "" if low is None else f" [95% CI {low:+.4f}, {high:+.4f}]"
        verdict = (
            f"candidate {primary} {cand_metrics[primary]:.4f} vs champion (version "
            f"{champion.version}) {champ_metrics[primary]:.4f}: {delta:+.4f}{interval} on "
            f"{len(records)} rows, margin {margin}"
        )
        if ok:
            msg = f"promoted version {candidate.version}: {verdict}"
        elif force:
            msg = f"FORCED promotion of version {candidate.version} (would be refused): {verdict}"
        else:
            msg = f"refused: version {candidate.version} is worse than the champion — {verdict}"
        result = PromotionResult(
            **base,
            promoted=ok or force,
            forced=force and not ok,
            previous_champion=champion.version,
            message=msg,
            candidate_metrics=cand_metrics,
            champion_metrics=champ_metrics,
            n_eval=len(records),
            eval_source=source,
            delta_low=low,
            delta_high=high,
            notes=notes,
        )
    if result.promoted:
        _record_promotion(client, name, candidate, result, who=who, when=when, reason=reason)
        client.set_registered_model_alias(name, CHAMPION, str(candidate.version))
    return result


def _record_promotion(
    client: Any,
    name: str,
    candidate: VersionInfo,
    result: PromotionResult,
    *,
    who: str,
    when: str,
    reason: str | None,
) -> None:
    v = str(candidate.version)
    tags = {
        "promotion.promoted_at": when,
        "promotion.promoted_by": who,
        "promotion.forced": str(result.forced).lower(),
        "promotion.previous_champion": str(result.previous_champion or ""),
        "promotion.margin": str(result.margin),
        "promotion.comparison": json.dumps(
            {
                "primary_metric": result.primary_metric,
                "candidate": result.candidate_metrics.get(result.primary_metric),
                "champion": result.champion_metrics.get(result.primary_metric),
                "n_eval": result.n_eval,
            }
        ),
    }
    if reason:
        tags["promotion.reason"] = reason
    for k, val in tags.items():
        client.set_model_version_tag(name, v, k, val)
    if result.forced:
        why = reason or "(no reason given)"
        line = f"\n\n**FORCED promotion** to champion by {who} at {when}: {why}. {result.message}"
        mv = client.get_model_version(name, v)
        client.update_model_version(name, v, description=(mv.description or "") + line)
        if candidate.run_id:
            client.set_tag(
                candidate.run_id, "lapor_triage.forced_promotion", f"{when} by {who}: {why}"
            )
    if result.previous_champion is not None:
        client.set_model_version_tag(
            name, str(result.previous_champion), "promotion.superseded_by", f"{v} at {when}"
        )


# --- helpers -------------------------------------------------------------------------------------


def _wait_ready(client: Any, name: str, version: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get_model_version(name, version).status
        if status == "READY":
            return
        if status == "FAILED_REGISTRATION":
            raise RegistryError(f"registering {name} version {version} failed")
        time.sleep(0.2)


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers)
        return "unknown"


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.4f}"


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True
