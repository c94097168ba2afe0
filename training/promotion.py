"""Gated promotion: the ``champion`` alias of ``lapor-triage-<task>`` moves to a candidate version
only if, re-scored on the SAME evaluation data as the current champion (the gate part logged with
the candidate's run: rows neither model was fitted on; or data given), the candidate is not worse
on the task's primary metric by more than ``margin`` (the paired bootstrap interval of the
difference is shown). ``force=True`` overrides a refusal; the override is recorded as tags and in
the version's description (who, when, why, and the comparison).
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from lapor_triage.models.base import Predictor
from lapor_triage.registry_client import (
    CHAMPION,
    RegistryError,
    VersionInfo,
    get_champion,
    get_version,
)
from lapor_triage.training.eval_split import EVAL_SPLIT_ARTIFACT, read_eval_split
from lapor_triage.training.registry import KEY_METRICS, load_version
from lapor_triage.training.run_params import numeric_metrics
from lapor_triage.training.tracking import get_client, registered_model_name

DEFAULT_MARGIN = 0.01
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
    return numeric_metrics(metrics)


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


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers)
        return "unknown"


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.4f}"


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]
