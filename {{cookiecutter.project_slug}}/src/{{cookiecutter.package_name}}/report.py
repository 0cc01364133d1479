"""The pull-request report: Markdown with images, posted on the PR by CML, readable locally.

It compares this workspace against the base branch (`dvc metrics diff`, `dvc params diff`) and
against the model currently serving as `champion` in the registry, then shows the plots.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import settings, tracking
from .cli import StageError, run
from .evaluate import IMAGES, METRICS, PLOTS

REPORT = "reports/report.md"
TITLES = {
    "confusion_matrix.png": "Confusion matrix",
    "roc_curve.png": "ROC curve",
    "feature_importance.png": "Feature importance",
}


def dvc_json(cfg: settings.Settings, *args: str) -> dict[str, Any] | None:
    """Output of a `dvc ... --json` diff, or None when the base revision cannot be read."""
    done = subprocess.run(
        [sys.executable, "-m", "dvc", *args, "--json"], cwd=cfg.root, capture_output=True, text=True
    )
    if done.returncode != 0:
        return None
    return dict(json.loads(done.stdout or "{}"))


def champion(cfg: settings.Settings) -> tuple[str, dict[str, float]] | None:
    """(version, metrics) of the model serving as champion, or None before the first promotion."""
    from mlflow.exceptions import MlflowException

    client = tracking.connect(cfg)
    try:
        found = client.get_model_version_by_alias(cfg.model_name, tracking.CHAMPION)
    except MlflowException:
        return None
    return str(found.version), dict(client.get_run(found.run_id).data.metrics)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _delta(new: float, old: float | None) -> str:
    return "—" if old is None else f"{new - old:+.4f}"


def verdict(cfg: settings.Settings, current: dict[str, float], best: dict[str, float] | None) -> str:
    gate = cfg.section("gate")
    metric, higher = str(gate["primary_metric"]), bool(gate["higher_is_better"])
    if best is None or metric not in best:
        return f"No champion yet: this candidate would be the first (`{metric}` = {current[metric]:.4f})."
    change = current[metric] - best[metric]
    worse_by = -change if higher else change
    if worse_by > float(gate["tolerance"]):
        return f"**Worse than the champion** on `{metric}` by {worse_by:.4f} (tolerance {gate['tolerance']})."
    return f"Within tolerance of the champion on `{metric}` ({change:+.4f}; tolerance {gate['tolerance']})."


def build(cfg: settings.Settings) -> str:
    metrics_path = cfg.path(METRICS)
    if not metrics_path.is_file():
        raise StageError(f"{METRICS} is missing: run `make pipeline` first")
    current: dict[str, float] = json.loads(metrics_path.read_text(encoding="utf-8"))
    registration = tracking.read_registration(cfg)
    base = cfg.report_base
    metric_diff = dvc_json(cfg, "metrics", "diff", base)
    params_diff = dvc_json(cfg, "params", "diff", base)
    serving = champion(cfg)
    base_values = {
        name: change.get("old") for name, change in ((metric_diff or {}).get(METRICS) or {}).items()
    }
    best = serving[1] if serving else None

    lines = [
        f"## Model report: `{cfg.model_name}` version {registration['version']} (`{tracking.CHALLENGER}`)",
        "",
        verdict(cfg, current, best),
        "",
        f"| metric | this change | `{base}` | Δ vs `{base}` | champion"
        f"{' v' + serving[0] if serving else ''} | Δ vs champion |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, value in sorted(current.items()):
        old = base_values.get(name)
        champ = (best or {}).get(name)
        cells = [f"{value:.4f}", _fmt(old), _delta(value, old), _fmt(champ), _delta(value, champ)]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    if metric_diff is None:
        lines += ["", f"_No metrics on `{base}` to compare with (new pipeline, or `{base}` not fetched)._"]

    lines += ["", "### Parameters changed", ""]
    changed = {name: change for entries in (params_diff or {}).values() for name, change in entries.items()}
    if changed:
        lines += ["| parameter | before | after |", "| --- | --- | --- |"]
        lines += [f"| {k} | {v.get('old')} | {v.get('new')} |" for k, v in sorted(changed.items())]
    else:
        lines.append(f"No parameter differs from `{base}`.")

    lines += ["", "### Plots", ""]
    for image in IMAGES:
        lines += [f"![{TITLES[image]}](plots/{image})", ""]
    lines += [
        "<sub>Run "
        f"`{registration['run_id']}` · registry `{cfg.model_name}` v{registration['version']} · "
        "built by `make report`.</sub>",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    cfg = settings.load()
    text = build(cfg)
    out = cfg.path(REPORT)
    (out.parent / "plots").mkdir(parents=True, exist_ok=True)
    for image in IMAGES:
        shutil.copyfile(cfg.path(PLOTS) / image, out.parent / "plots" / image)
    out.write_text(text, encoding="utf-8")
    print(f"report: wrote {Path(REPORT)} with {len(IMAGES)} images")


if __name__ == "__main__":
    run(main, "report")
