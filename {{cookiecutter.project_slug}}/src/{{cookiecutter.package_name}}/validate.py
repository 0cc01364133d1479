"""Yours to edit. Stage 2, validate: check the prepared data against data/schema.yaml before anything trains.

Checks schema (missing and unexpected columns), types, ranges, categories, missing values,
infinities, target labels, row count, class balance and `data.positive_label`. On any problem it
lists them all and exits 1, so `dvc repro` stops here and no model is trained or registered. It
writes reports/validation.json (status, problems, rows, classes...) for the stages after it and
the PR report. docs/data.md is the data contract.

`python -m <package>.validate --infer data/raw/new.csv` writes a first schema for a new dataset.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import yaml
from mlops_gitops.errors import CommandError, main_of

from . import paths, settings
from .dataset import (
    CATEGORY_TYPES,
    MAX_CLASSES,
    TYPES,
    YAML_DUMPER,
    DataSettings,
    as_numbers,
    label_text,
    labels_of,
    load_schema,
    prepare,
    read_prepared,
    read_raw,
)

MAX_CATEGORIES = 50  # more distinct texts than this is free text, not a category
ID_NAME = re.compile(r"(^|_)(id|uuid|key)$|^id_")
DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}([ T].*)?|\d{1,2}[./]\d{1,2}[./]\d{2,4}( .*)?")


def check(frame: pd.DataFrame, schema: dict[str, Any], rules: dict[str, Any]) -> list[str]:
    """Every problem found, one readable line each; an empty list means the data is fit to train on."""
    problems: list[str] = []
    columns: dict[str, dict[str, Any]] = schema["columns"]
    target = schema["target"]["name"]
    expected = [*columns, target]

    if frame.empty:
        return ["the dataset has no rows"]
    if len(frame) < rules["min_rows"]:
        problems.append(
            f"only {len(frame)} rows; at least {rules['min_rows']} are needed (validate.min_rows)"
        )
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        problems.append(
            f"missing columns: {', '.join(missing)} (data/schema.yaml lists them, the data has not)"
        )
    unexpected = [c for c in frame.columns if c not in expected]
    if unexpected:
        problems.append(
            f"unexpected columns: {', '.join(unexpected[:10])} (add them to data/schema.yaml, "
            "as type: ignore to keep them out of the model, or drop them)"
        )

    for name in (name for name in columns if name in frame.columns):
        problems.extend(_check_column(Column(name, frame[name]), columns[name], rules["max_null_fraction"]))

    if target in frame.columns:
        problems.extend(_check_target(frame[target], target, schema["target"], rules))
    return problems


class Column:
    """One column as text (missing where empty) and, when a check asks, as numbers (NaN where
    missing or text) or as the values present: a numeric column of a million rows never becomes
    a million Python strings."""

    def __init__(self, name: str, text: pd.Series) -> None:
        self.name, self.text = name, text.reset_index(drop=True)
        self.missing = self.text.isna().to_numpy()

    @cached_property
    def values(self) -> np.ndarray:
        return self.text[~self.missing].to_numpy(dtype=object)

    @cached_property
    def numbers(self) -> np.ndarray:
        return as_numbers(self.text)

    @cached_property
    def not_numeric(self) -> np.ndarray:
        return np.isnan(self.numbers) & ~self.missing


def _check_column(column: Column, spec: dict[str, Any], max_nulls: float) -> list[str]:
    if spec["type"] == "ignore":
        return []
    name, problems = column.name, []
    share = float(column.missing.mean())
    if share > max_nulls:
        problems.append(
            f"column '{name}': {int(column.missing.sum())} missing values ({share:.1%}; "
            f"validate.max_null_fraction allows {max_nulls:.0%})"
        )
    if spec["type"] in CATEGORY_TYPES:
        return problems + _check_category(name, column.values, spec)
    if column.not_numeric.any():
        first = int(np.argmax(column.not_numeric))
        problems.append(
            f"column '{name}': {int(column.not_numeric.sum())} non-numeric values (first: "
            f"{column.text.iloc[first]!r} in row {first + 1}): fix them or leave them empty (missing)"
        )
    finite = column.numbers[~np.isnan(column.numbers)]
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


def _check_category(name: str, values: np.ndarray, spec: dict[str, Any]) -> list[str]:
    if len(values) >= 20 and len(set(values)) == len(values):
        return [f"column '{name}': a different value on every row (an ID?): set its type to ignore"]
    if not spec.get("values"):
        return []
    allowed = {str(v) for v in spec["values"]}
    unknown = sorted(set(values) - allowed)
    if unknown:
        return [
            f"column '{name}': unknown values {', '.join(repr(v) for v in unknown[:5])} "
            f"(allowed: {', '.join(sorted(allowed))}): add them to its values in data/schema.yaml"
        ]
    return []


def _check_target(raw: pd.Series, name: str, spec: dict[str, Any], rules: dict[str, Any]) -> list[str]:
    if raw.isna().any():
        return [f"target '{name}': {int(raw.isna().sum())} rows have no label: label them or remove them"]
    labels = labels_of(raw)
    allowed = [label_text(v) for v in spec["labels"]]
    unknown = sorted(set(labels) - set(allowed))
    if unknown:
        return [
            f"target '{name}': unknown labels {', '.join(unknown[:5])} (allowed: {', '.join(allowed)} in "
            "data/schema.yaml)"
        ]
    counts = labels.value_counts()
    if len(counts) < 2:
        return [f"target '{name}' has one class ({labels.iloc[0]!r}): a classifier needs two or more"]
    shares = {label: float(counts.get(label, 0)) / len(labels) for label in allowed}
    rarest = min(shares, key=lambda label: shares[label])
    if shares[rarest] < rules["min_class_fraction"]:
        return [
            f"target '{name}': rarest class {rarest!r} is {shares[rarest]:.1%} of rows; at least "
            f"{rules['min_class_fraction']:.0%} is required (class balance, validate.min_class_fraction)"
        ]
    return []


def infer_schema(frame: pd.DataFrame, target: str) -> dict[str, Any]:
    """A starting schema for a new dataset: types from the data, ranges widened for headroom,
    categories with their values, the share of missing values, the target's labels as text.
    Columns that cannot help a model (constant, an ID, dates, free text) are `type: ignore`
    with a `note` that says why."""
    if target not in frame.columns:
        raise CommandError(
            f"target '{target}' (params.yaml data.target) is not a column of the data; its columns are "
            f"{', '.join(list(frame.columns)[:12])} (names normalised: docs/data.md)"
        )
    labels = sorted(set(labels_of(frame[target].dropna())))
    if len(labels) > MAX_CLASSES:
        raise CommandError(
            f"target '{target}' has {len(labels)} distinct values: this template trains classifiers; "
            "set data.target to a column of classes"
        )
    columns = {name: _infer_column(Column(name, frame[name])) for name in frame.columns if name != target}
    return {"target": {"name": target, "labels": labels}, "columns": columns}


def _infer_column(column: Column) -> dict[str, Any]:
    rows, values = len(column.text), column.values
    share = float(column.missing.mean())
    missing = {"missing": _round(share)} if share else {}
    distinct = len(set(values))
    if distinct <= 1:
        return {"type": "ignore", "note": "constant: one value" if distinct else "no values"}
    if column.not_numeric.sum() <= 0.1 * len(values) and np.isfinite(column.numbers).any():
        finite = column.numbers[np.isfinite(column.numbers)]
        integral = bool((finite % 1 == 0).all())
        consecutive = finite.max() - finite.min() < rows
        if integral and distinct == rows >= 20 and (ID_NAME.search(column.name) or consecutive):
            return {"type": "ignore", "note": "unique per row: an ID"}
        low, high = float(finite.min()), float(finite.max())
        span = (high - low) or abs(high) or 1.0
        spec: dict[str, Any] = {
            "type": "int" if integral else "float",
            "min": _round(0.0 if low >= 0 else low - span),
            "max": _round(high + span),
            **missing,
        }
        if column.not_numeric.any():
            first = column.text.iloc[np.argmax(column.not_numeric)]
            spec["note"] = (
                f"{int(column.not_numeric.sum())} values are not numbers (first: {first!r}): fix them"
            )
        return spec
    if np.mean([bool(DATE.fullmatch(v)) for v in values]) >= 0.9:
        return {"type": "ignore", "note": "dates: derive numbers from them in prepare.py if they matter"}
    if distinct == len(values) >= 20:
        return {"type": "ignore", "note": "unique per row: an ID or free text"}
    if distinct > MAX_CATEGORIES:
        return {"type": "ignore", "note": f"{distinct} distinct texts: too many for a category"}
    return {"type": "category", "values": sorted(set(values)), **missing}


def _round(value: float) -> float:
    return float(f"{value:.3g}")


def summary(frame: pd.DataFrame, schema: dict[str, Any]) -> dict[str, Any]:
    """The facts of the data that the stages after this one and the PR report read."""
    target = schema["target"]["name"]
    features = [n for n, s in schema["columns"].items() if s["type"] != "ignore"]
    labels = labels_of(frame[target].dropna()) if target in frame.columns else pd.Series(dtype=object)
    counts = labels.value_counts()
    missing = {
        name: round(float(frame[name].isna().mean()), 4)
        for name in frame.columns
        if name != target and frame[name].isna().any()
    }
    return {
        "rows": len(frame),
        "columns": len(features),
        "target": target,
        "classes": sorted(str(c) for c in counts.index),
        "class_counts": {str(label): int(counts[label]) for label in sorted(counts.index)},
        "missing": missing,
        "ignored": [n for n, s in schema["columns"].items() if s["type"] == "ignore"],
    }


def write_inferred(cfg: settings.Settings, data: DataSettings, raw: str) -> None:
    schema = infer_schema(prepare(read_raw(raw, data.delimiter, shown=raw)), data.target)
    path = cfg.path(data.schema)
    header = (
        "# Expected shape of the data. Written by `validate --infer`; review the types, ranges, categories\n"
        "# and labels (docs/data.md). `type: ignore` keeps a column out of the model; its `note` says why.\n"
    )
    text = yaml.dump(schema, Dumper=YAML_DUMPER, sort_keys=False, width=100, allow_unicode=True)
    path.write_text(header + text, encoding="utf-8")
    kinds = [spec["type"] for spec in schema["columns"].values()]
    counted = ", ".join(f"{kinds.count(k)} {k}" for k in TYPES if k in kinds)
    labels = schema["target"]["labels"]
    print(
        f"validate: wrote {path.relative_to(cfg.root)} ({len(kinds)} columns: {counted}); target "
        f"'{data.target}' labels {', '.join(repr(label) for label in labels)}"
    )
    for name, spec in schema["columns"].items():
        if "note" in spec:
            print(f"validate: column '{name}' ({spec['type']}): {spec['note']}")
    try:
        data.positive_for(labels)
    except CommandError as exc:
        print(f"validate: next: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--infer", metavar="CSV", help="write data/schema.yaml from this CSV and stop")
    args = parser.parse_args()
    cfg = settings.load()
    report = cfg.path(paths.VALIDATION)
    if not args.infer:
        report.unlink(missing_ok=True)  # a failure below leaves no earlier "passed" behind
    data = DataSettings(cfg)
    if args.infer:
        write_inferred(cfg, data, args.infer)
        return

    schema = load_schema(cfg.path(data.schema), data.schema)
    if schema["target"]["name"] != data.target:
        raise CommandError(
            f"params.yaml data.target is '{data.target}' but the schema's target is "
            f"'{schema['target']['name']}': make them agree (or write the schema again with --infer)"
        )
    frame = read_prepared(cfg.path(paths.PREPARED))
    problems = check(frame, schema, cfg.section("validate"))
    facts = summary(frame, schema)
    positive = None
    if not problems:
        try:
            positive = data.positive_for(facts["classes"])
        except CommandError as exc:
            problems.append(str(exc))
    status = "failed" if problems else "passed"
    result = {"status": status, "problems": problems, **facts, "positive_label": positive}
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if len(problems) == 1:
        raise CommandError(f"data failed validation: {problems[0]}")
    if problems:
        details = "\n".join(f"  - {p}" for p in problems)
        raise CommandError(f"data failed validation ({len(problems)} problems):\n{details}")
    print(
        f"validate: {len(frame)} rows passed {len(schema['columns'])} column checks; target "
        f"'{data.target}': {', '.join(f'{k}={v}' for k, v in facts['class_counts'].items())}"
    )


if __name__ == "__main__":
    main_of(main, "validate")
