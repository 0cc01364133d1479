"""Yours to edit. The pull-request report: Markdown with images, posted on the PR by CML, readable locally.

It compares this workspace with two registered models:
- `main`'s model, found by lineage: the newest version trained from the model inputs (code, data,
  params) that the base branch holds (`REPORT_BASE`, default `main`; CI passes `origin/main`).
  Without one (the first PR, or main's model was never trained) it says so, and falls back to
  `dvc metrics diff` when that finds metrics of the base;
- the model serving as `champion`.
Then the data (version, rows, class balance, with a warning when it differs from the data those
models were trained on), the parameters changed, a comparison chart and the pipeline's plots. The
verdict is the promotion gate's own rule (`mlops_gitops.gate`), so report and promotion agree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_gitops import inputs
from mlops_gitops.errors import CommandError, main_of
from mlops_gitops.gate import verdict
from mlops_gitops.lineage import raw_data_md5
from mlops_gitops.project import ConfigError
from mlops_gitops.registry import CHAMPION, RegistryError, connect, load_version, newest_with_tag, resolve

from . import paths, settings, tracking

TITLES = {
    "confusion_matrix.png": "Confusion matrix",
    "roc_curve.png": "ROC curve",
    "feature_importance.png": "Feature importance",
}
COMPARISON = "comparison.png"  # written next to the report, in reports/plots/
DATA_TAG = "dvc.data.raw.md5"  # the raw data version a training run records (mlops_gitops.lineage)
SHORT = 12


@dataclass
class Reference:
    """A registered model this change is compared with."""

    label: str  # as the tables name it, e.g. "`main` v3" or "champion v2"
    version: str
    metrics: dict[str, float]
    data_md5: str | None


def dvc_json(cfg: settings.Settings, *args: str) -> dict[str, Any] | None:
    """Output of a `dvc ... --json` diff, or None when the base revision cannot be read."""
    done = subprocess.run(
        [sys.executable, "-m", "dvc", *args, "--json"], cwd=cfg.root, capture_output=True, text=True
    )
    if done.returncode != 0:
        return None
    return dict(json.loads(done.stdout or "{}"))


def _reference(client: Any, cfg: settings.Settings, label: str, version: str) -> Reference:
    found = load_version(client, cfg, version)
    return Reference(f"{label} v{found.version}", found.version, found.metrics, found.run_tags.get(DATA_TAG))


def main_model(client: Any, cfg: settings.Settings, base: str) -> tuple[Reference | None, str]:
    """The model of `base`: the newest version trained from the model inputs it holds; else why not."""
    tree = inputs.committed(cfg.root, base)
    if not isinstance(tree, inputs.Commit):
        return None, f"`{base}` cannot be read here (not fetched, or not a git repository)"
    try:
        fingerprint = inputs.fingerprint(inputs.model_inputs(tree))
    except ConfigError:
        return None, f"`{base}` holds no pipeline to train a model from yet"
    version = newest_with_tag(client, cfg, inputs.FINGERPRINT_TAG, fingerprint)
    if version is None:
        return None, (
            f"no model trained from the model inputs of `{base}` is in the registry "
            f"(the first PR, or the model of `{base}` was never trained)"
        )
    try:
        return _reference(client, cfg, f"`{base}`", version), ""
    except RegistryError as exc:
        return None, f"the model of `{base}` cannot be read: {exc}"


def champion_model(client: Any, cfg: settings.Settings) -> Reference | None:
    try:
        return _reference(client, cfg, "champion", resolve(client, cfg, CHAMPION))
    except RegistryError:
        return None  # before the first promotion


def read_validation(cfg: settings.Settings) -> dict[str, Any]:
    path = cfg.path(paths.VALIDATION)
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return found if isinstance(found, dict) else {}


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _delta(new: float, old: float | None) -> str:
    return "—" if old is None else f"{new - old:+.4f}"


def _md5(value: str | None) -> str:
    return f"`{value[:SHORT]}`" if value else "unknown"


def data_section(cfg: settings.Settings, data_md5: str | None, references: list[Reference]) -> list[str]:
    validation = read_validation(cfg)
    lines = ["", "### Data", ""]
    header = ["", "this change", *(ref.label for ref in references)]
    lines += [
        f"| {' | '.join(header)} |",
        f"| {' | '.join(['---'] * len(header))} |",
        f"| data version (md5 of `{cfg.section('data').get('raw')}`) | "
        + " | ".join([_md5(data_md5), *(_md5(ref.data_md5) for ref in references)])
        + " |",
    ]
    columns = validation.get("columns")
    count = len(columns) if isinstance(columns, list | dict) else columns
    facts = [
        f"{validation['rows']} rows" if validation.get("rows") is not None else None,
        f"{count} feature columns" if count is not None else None,
        f"target `{validation['target']}`" if validation.get("target") else None,
    ]
    ignored = validation.get("ignored")
    if isinstance(ignored, list) and ignored:
        facts.append(f"ignored: {', '.join(f'`{name}`' for name in ignored)}")
    if any(facts):
        lines += ["", ", ".join(fact for fact in facts if fact) + "."]
    counts = validation.get("class_counts")
    if isinstance(counts, dict) and counts:
        names = validation.get("classes")
        positive = validation.get("positive_label")
        total = sum(int(n) for n in counts.values()) or 1
        lines += ["", "| class | rows | share |", "| --- | ---: | ---: |"]
        for label, n in counts.items():
            name = str(names.get(str(label), label) if isinstance(names, dict) else label).replace("|", "\\|")
            mark = " (positive)" if positive is not None and str(positive) == str(label) else ""
            lines.append(f"| {name}{mark} | {int(n)} | {int(n) / total:.1%} |")
    missing = validation.get("missing")
    if isinstance(missing, dict):
        gaps = sorted(((float(share), str(col)) for col, share in missing.items() if share), reverse=True)
        shown = ", ".join(f"`{col}` {share:.1%}" for share, col in gaps[:5])
        more = " …" if len(gaps) > 5 else ""
        lines += ["", f"Missing values: {shown}{more}." if gaps else "No missing values."]
    return lines


def data_warning(data_md5: str | None, references: list[Reference]) -> list[str]:
    """A warning when a compared model was trained on other data than this change."""
    other = [ref for ref in references if data_md5 and ref.data_md5 and ref.data_md5 != data_md5]
    if not other:
        return []
    which = " and ".join(f"{ref.label} on {_md5(ref.data_md5)}" for ref in other)
    return [
        "",
        f"> **Warning: other data.** This change was trained on data version {_md5(data_md5)}, {which}: "
        "the comparison mixes a change of data with a change of model. Check the data section before "
        "trusting the verdict.",
    ]


def build(cfg: settings.Settings) -> tuple[str, dict[str, dict[str, float]]]:
    """The report's Markdown, and the metrics to chart (label -> metrics; empty: nothing to compare)."""
    metrics_path = cfg.path(paths.METRICS)
    if not metrics_path.is_file():
        raise CommandError(f"{paths.METRICS} is missing: run `make pipeline` first")
    current: dict[str, float] = json.loads(metrics_path.read_text(encoding="utf-8"))
    registration = tracking.read_registration(cfg)
    base = os.environ.get("REPORT_BASE", "main")  # CI fetches it as origin/main
    client = connect(cfg)
    on_main, why_not = main_model(client, cfg, base)
    best = champion_model(client, cfg)
    base_values: dict[str, float | None] = dict(on_main.metrics) if on_main else {}
    from_dvc = False
    if on_main is None:  # a fallback: metrics.json of `base`, when its commit holds one
        metric_diff = dvc_json(cfg, "metrics", "diff", base) or {}
        base_values = {k: c.get("old") for k, c in (metric_diff.get(paths.METRICS) or {}).items()}
        from_dvc = any(value is not None for value in base_values.values())
    references = [ref for ref in (on_main, best) if ref is not None]
    data_md5 = raw_data_md5(cfg)

    base_label = on_main.label if on_main else f"`{base}`"
    champion_label = best.label if best else "champion"
    lines = [
        f"## Model report: `{cfg.model_name}` version {registration['version']} (candidate)",
        "",
        verdict(cfg, current, best.metrics if best else None),
        *data_warning(data_md5, references),
        "",
    ]
    if on_main is not None:
        same = on_main.version == str(registration["version"])
        lines.append(
            f"`{base}`'s model is version {on_main.version}, the newest trained from the model inputs "
            f"`{base}` holds{' (this version: nothing differs from it)' if same else ''}."
        )
    else:
        fallback = f"; its column comes from `dvc metrics diff {base}`" if from_dvc else ""
        lines.append(f"No model of `{base}` to compare with: {why_not}{fallback}.")
    lines += [
        "",
        f"| metric | this change | {base_label} | Δ vs `{base}` | {champion_label} | Δ vs champion |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, value in sorted(current.items()):
        old = base_values.get(name)
        champ = (best.metrics if best else {}).get(name)
        cells = [f"{value:.4f}", _fmt(old), _delta(value, old), _fmt(champ), _delta(value, champ)]
        lines.append(f"| {name} | {' | '.join(cells)} |")

    series: dict[str, dict[str, float]] = {}
    others = [ref for ref in references if ref.version != str(registration["version"])]
    if others:  # a chart of this change against the models it differs from
        series = {"this change": current} | {ref.label.replace("`", ""): ref.metrics for ref in others}
        against = " and ".join(ref.label for ref in others)
        lines += ["", f"![This change against {against}](plots/{COMPARISON})"]

    lines += data_section(cfg, data_md5, references)

    params_diff = dvc_json(cfg, "params", "diff", base)
    lines += ["", "### Parameters changed", ""]
    changed = {name: change for entries in (params_diff or {}).values() for name, change in entries.items()}
    if changed:
        lines += ["| parameter | before | after |", "| --- | --- | --- |"]
        lines += [f"| {k} | {v.get('old')} | {v.get('new')} |" for k, v in sorted(changed.items())]
    elif params_diff is None:
        lines.append(f"`{base}` cannot be read here: parameters not compared.")
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
        lines += [f"![{TITLES.get(image, image)}](plots/{image})", ""]
    lines += [
        "<sub>Run "
        f"`{registration['run_id']}` · registry `{cfg.model_name}` v{registration['version']} · "
        "built by `make report`.</sub>",
        "",
    ]
    return "\n".join(lines), series


def write_comparison(series: dict[str, dict[str, float]], out: Path) -> None:
    """A bar chart of the metrics this change shares with the models it is compared with."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display in CI or tests
    import matplotlib.pyplot as plt

    labels = list(series)
    current = series[labels[0]]
    names = [n for n in sorted(current) if any(n in series[label] for label in labels[1:])]
    width = 0.8 / len(labels)
    figure, axis = plt.subplots(figsize=(max(5.0, 1.4 * len(names)), 4))
    for i, label in enumerate(labels):
        heights = [series[label].get(n, float("nan")) for n in names]
        xs = [j + (i - (len(labels) - 1) / 2) * width for j in range(len(names))]
        bars = axis.bar(xs, heights, width, label=label)
        texts = ["" if h != h else f"{h:.3f}" for h in heights]  # h != h: no value (NaN)
        axis.bar_label(bars, labels=texts, fontsize=7, rotation=90, padding=2)
    axis.set_xticks(range(len(names)), names)
    axis.set(title=f"This change against {' and '.join(labels[1:])}", ylabel="value")
    axis.margins(y=0.25)
    axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(labels), frameon=False)
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    plt.close(figure)


def main() -> None:
    cfg = settings.load()
    text, series = build(cfg)
    out = cfg.path(paths.REPORT)
    plots = out.parent / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    for image in paths.IMAGES:
        shutil.copyfile(cfg.path(paths.PLOTS) / image, plots / image)
    (plots / COMPARISON).unlink(missing_ok=True)  # a chart of a previous run must not be posted
    if series:
        write_comparison(series, plots / COMPARISON)
    out.write_text(text, encoding="utf-8")
    images = len(paths.IMAGES) + bool(series)
    print(f"report: wrote {paths.REPORT} with {images} images")


if __name__ == "__main__":
    main_of(main, "report")
