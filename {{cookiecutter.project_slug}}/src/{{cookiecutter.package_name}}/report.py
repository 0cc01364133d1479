"""Yours to edit. The pull-request report: Markdown with images, posted on the PR by CML, readable locally.

It compares this workspace against the base branch (`dvc metrics diff`, `dvc params diff`) and
against the model currently serving as `champion` in the registry, then shows the plots. The
verdict is the promotion gate's own rule (`mlops_gitops.gate`), so report and promotion agree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

from mlops_gitops.errors import CommandError, main_of
from mlops_gitops.gate import verdict
from mlops_gitops.registry import champion

from . import paths, settings, tracking

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


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _delta(new: float, old: float | None) -> str:
    return "—" if old is None else f"{new - old:+.4f}"


def build(cfg: settings.Settings) -> str:
    metrics_path = cfg.path(paths.METRICS)
    if not metrics_path.is_file():
        raise CommandError(f"{paths.METRICS} is missing: run `make pipeline` first")
    current: dict[str, float] = json.loads(metrics_path.read_text(encoding="utf-8"))
    registration = tracking.read_registration(cfg)
    base = os.environ.get("REPORT_BASE", "main")  # CI fetches it as origin/main
    metric_diff = dvc_json(cfg, "metrics", "diff", base)
    params_diff = dvc_json(cfg, "params", "diff", base)
    serving = champion(cfg)
    base_values = {
        name: change.get("old") for name, change in ((metric_diff or {}).get(paths.METRICS) or {}).items()
    }
    best = serving[1] if serving else None

    lines = [
        f"## Model report: `{cfg.model_name}` version {registration['version']} (candidate)",
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

    fingerprint = str(registration.get("inputs_fingerprint", ""))
    lines += [
        "",
        "### Promotion",
        "",
        f"Once this change is on `main`, version {registration['version']} is the `candidate` there: it was "
        f"trained from the model inputs (code, data, params) `{fingerprint[:12] or 'unknown'}`, and the gate "
        "promotes only a version whose inputs equal those of `main` (any merge method). Propose it with the "
        "Promotion workflow (version `candidate`) or `make promote-propose PROMOTE_VERSION=candidate`.",
    ]

    lines += ["", "### Plots", ""]
    for image in paths.IMAGES:
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
    out = cfg.path(paths.REPORT)
    (out.parent / "plots").mkdir(parents=True, exist_ok=True)
    for image in paths.IMAGES:
        shutil.copyfile(cfg.path(paths.PLOTS) / image, out.parent / "plots" / image)
    out.write_text(text, encoding="utf-8")
    print(f"report: wrote {paths.REPORT} with {len(paths.IMAGES)} images")


if __name__ == "__main__":
    main_of(main, "report")
