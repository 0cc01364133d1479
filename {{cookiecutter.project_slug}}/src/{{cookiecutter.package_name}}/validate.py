"""Yours to edit. Stage 2, validate: check the prepared data against data/schema.yaml before anything trains.

Checks schema (missing and unexpected columns), types, ranges, nulls, infinities, target labels,
row count and class balance. On any problem it lists them all and exits 1, so `dvc repro` stops
here and no model is trained or registered.

`python -m <package>.validate --infer data/raw/new.csv` writes a first schema for a new dataset.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from mlops_gitops.errors import CommandError, main_of

from . import paths, settings
from .dataset import prepare, read_raw

NUMERIC_TYPES = {"float", "int"}


def check(frame: pd.DataFrame, schema: dict[str, Any], rules: dict[str, Any]) -> list[str]:
    """Every problem found, one readable line each; an empty list means the data is fit to train on."""
    problems: list[str] = []
    columns: dict[str, dict[str, Any]] = schema["columns"]
    target = schema["target"]["name"]
    expected = [*columns, target]

    if frame.empty:
        return ["the dataset has no rows"]
    if len(frame) < rules["min_rows"]:
        problems.append(f"only {len(frame)} rows; at least {rules['min_rows']} are needed")
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    unexpected = [c for c in frame.columns if c not in expected]
    if unexpected:
        problems.append(f"unexpected columns: {', '.join(unexpected)} (add them to the schema or drop them)")

    for name, spec in columns.items():
        if name in frame.columns:
            problems.extend(_check_column(name, frame[name], spec, rules["max_null_fraction"]))

    if target in frame.columns:
        problems.extend(_check_target(frame[target], target, schema["target"], rules))
    return problems


def _check_column(name: str, raw: pd.Series, spec: dict[str, Any], max_nulls: float) -> list[str]:
    problems = []
    nulls = raw.isna()
    if nulls.mean() > max_nulls:
        problems.append(f"column '{name}': {int(nulls.sum())} missing values (allowed share {max_nulls})")
    if spec["type"] not in NUMERIC_TYPES:
        return problems
    values = pd.to_numeric(raw, errors="coerce")
    not_numeric = values.isna() & ~nulls
    if not_numeric.any():
        sample = raw[not_numeric].iloc[0]
        problems.append(
            f"column '{name}': {int(not_numeric.sum())} non-numeric values (first: {sample!r} "
            f"in row {int(np.argmax(not_numeric.to_numpy())) + 1})"
        )
    finite = values.dropna()
    infinite = np.isinf(finite)
    if infinite.any():
        problems.append(f"column '{name}': {int(infinite.sum())} infinite values")
    finite = finite[~infinite]
    if spec["type"] == "int" and (finite % 1 != 0).any():
        problems.append(f"column '{name}': {int((finite % 1 != 0).sum())} non-integer values")
    low, high = spec.get("min", -math.inf), spec.get("max", math.inf)
    outside = (finite < low) | (finite > high)
    if outside.any():
        problems.append(f"column '{name}': {int(outside.sum())} values outside [{low}, {high}]")
    return problems


def _check_target(raw: pd.Series, name: str, spec: dict[str, Any], rules: dict[str, Any]) -> list[str]:
    if raw.isna().any():
        return [f"target '{name}': {int(raw.isna().sum())} rows have no label"]
    labels = pd.to_numeric(raw, errors="coerce")
    allowed = set(spec["labels"])
    unknown = sorted({str(v) for v, n in zip(raw, labels, strict=True) if n not in allowed})
    if unknown:
        return [f"target '{name}': unknown labels {', '.join(unknown[:5])} (allowed: {sorted(allowed)})"]
    shares = labels.value_counts(normalize=True)
    rarest = min(float(shares.get(label, 0.0)) for label in allowed)
    if rarest < rules["min_class_fraction"]:
        return [
            f"target '{name}': rarest class is {rarest:.1%} of rows; "
            f"at least {rules['min_class_fraction']:.0%} is required (class balance)"
        ]
    return []


def infer_schema(frame: pd.DataFrame, target: str) -> dict[str, Any]:
    """A starting schema for a new dataset: types from the data, ranges widened for headroom."""
    columns: dict[str, Any] = {}
    for name in frame.columns:
        if name == target:
            continue
        values = pd.to_numeric(frame[name], errors="coerce")
        if values.notna().all():
            kind = "int" if (values % 1 == 0).all() else "float"
            low, high = float(values.min()), float(values.max())
            span = (high - low) or abs(high) or 1.0
            columns[name] = {
                "type": kind,
                "min": _round(0.0 if low >= 0 else low - span),
                "max": _round(high + span),
            }
        else:
            columns[name] = {"type": "str"}
    labels = sorted(int(v) for v in pd.to_numeric(frame[target]).unique())
    return {"target": {"name": target, "labels": labels}, "columns": columns}


def _round(value: float) -> float:
    return float(f"{value:.3g}")


def load_schema(path: Path) -> dict[str, Any]:
    try:
        schema = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommandError(f"{path.name} is missing: write one with `--infer <csv>`") from None
    if not isinstance(schema, dict) or not {"target", "columns"} <= set(schema):
        raise CommandError(f"{path.name} needs 'target' and 'columns' sections: see the README")
    return schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--infer", metavar="CSV", help="write data/schema.yaml from this CSV and stop")
    args = parser.parse_args()
    cfg = settings.load()
    data = cfg.section("data")
    schema_path = cfg.path(str(data["schema"]))
    if args.infer:
        schema = infer_schema(prepare(read_raw(args.infer)), str(data["target"]))
        header = "# Expected shape of the data. Written by `validate --infer`; review the ranges.\n"
        schema_path.write_text(header + yaml.safe_dump(schema, sort_keys=False), encoding="utf-8")
        print(f"validate: wrote {schema_path.relative_to(cfg.root)} ({len(schema['columns'])} columns)")
        return

    schema = load_schema(schema_path)
    if schema["target"]["name"] != data["target"]:
        raise CommandError(
            f"params.yaml data.target is '{data['target']}' but the schema's target is "
            f"'{schema['target']['name']}': make them agree"
        )
    frame = pd.read_csv(cfg.path(paths.PREPARED), dtype=str, keep_default_na=False, na_values=[""])
    problems = check(frame, schema, cfg.section("validate"))
    report = cfg.path(paths.VALIDATION)
    report.parent.mkdir(parents=True, exist_ok=True)
    status = "failed" if problems else "passed"
    result = {"status": status, "rows": len(frame), "problems": problems}
    report.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if problems:
        details = "\n".join(f"  - {p}" for p in problems)
        raise CommandError(
            f"data failed validation ({len(problems)} problems); fix the data or data/schema.yaml:\n{details}"
        )
    print(f"validate: {len(frame)} rows passed {len(schema['columns'])} column checks")


if __name__ == "__main__":
    main_of(main, "validate")
