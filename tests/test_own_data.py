"""An ML engineer's own tabular data (issue 11): the generated project takes a CSV as it comes.

1. The malformed-dataset table: one rendered project, each dataset in a folder of its own, every
   stage a user runs after a swap (`validate --infer`, then prepare, validate, featurize, train)
   called in-process by a driver in the shared project environment (two drivers, one per core:
   an import of pandas, scikit-learn and MLflow costs seconds, a stage a fraction of one). Each
   case ends as expected: trained and registered, or one line naming the column or setting and
   the fix, exit 1, no model written and none registered.
2. The wine journey: scikit-learn's wine data as a user brings it (capitals, spaces and `%` in the
   headers, a categorical `Region` with missing values, missing numbers, a `yes`/`no` target),
   swapped in with the generated README's steps, reaches a registered version and the project's
   own `make test`; then its three-class target reaches a registered version with macro metrics.

The data contract is the project's docs/data.md.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from helpers.project import git_init, make, project_command_env, render

pytestmark = pytest.mark.slow

PACKAGE = "diagnosis_classifier"  # the default answers' package

# --------------------------------------------------------------------------------------------
# Datasets, written with the standard library (the template's environment has no pandas).

Row = dict[str, object]


def table(rows: int = 150, seed: int = 1, labels: tuple[str, ...] = ("no", "yes")) -> list[Row]:
    """A small dataset as users bring it: headers with capitals, spaces and `%`, a category, a text
    target. `Size cm` predicts the label; the rest is noise."""
    rng = random.Random(seed)
    out = []
    for number in range(rows):
        label = labels[number % len(labels)]
        out.append(
            {
                "Size cm": round(labels.index(label) * 3 + rng.gauss(10, 1), 3),
                "Weight %": round(rng.uniform(0, 100), 2),
                "Colour": rng.choice(["red", "green", "blue"]),
                "Label": label,
            }
        )
    return out


def to_csv(rows: list[Row], sep: str = ",") -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), delimiter=sep, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def changed(rows: list[Row], column: str, values: dict[int, object]) -> list[Row]:
    return [{**row, column: values.get(number, row[column])} for number, row in enumerate(rows)]


def with_column(rows: list[Row], name: str, value: object) -> list[Row]:
    return [{**row, name: value(number) if callable(value) else value} for number, row in enumerate(rows)]


def wide(columns: int = 2000, rows: int = 150) -> bytes:
    rng = random.Random(3)
    header = [f"Feature {i}" for i in range(columns)] + ["Label"]
    lines = [",".join(header)]
    for number in range(rows):
        label = number % 2
        values = [f"{rng.gauss(label if i < 5 else 0, 1):.3f}" for i in range(columns)]
        lines.append(",".join([*values, "yes" if label else "no"]))
    return ("\n".join(lines) + "\n").encode()


def extra_field(data: bytes, line: int) -> bytes:
    lines = data.split(b"\n")
    lines[line - 1] += b",x"
    return b"\n".join(lines)


@dataclass
class Case:
    data: bytes
    expected: str | None  # None: trained and registered; else in the one line printed
    params: dict[str, str] = field(default_factory=dict)  # data.* lines of params.yaml, as YAML text
    schema: str | None = None  # a hand-written schema instead of `validate --infer`


BASE = table()
CASES: dict[str, Case] = {
    # Read as it comes.
    "semicolon-separated": Case(to_csv(BASE, sep=";"), None),
    "tab-separated, delimiter set": Case(to_csv(BASE, sep="\t"), None, {"delimiter": '"\\t"'}),
    "target named as in the header": Case(to_csv(BASE), None, {"target": '"Label"'}),
    "target named normalised": Case(to_csv(BASE), None, {"target": "label"}),
    "category with missing values": Case(to_csv(changed(BASE, "Colour", {3: "", 40: ""})), None),
    "numbers with missing values": Case(to_csv(changed(BASE, "Size cm", {1: "", 7: "", 9: "", 60: ""})), None),
    "three classes": Case(to_csv(table(labels=("low", "mid", "high"))), None, {"positive_label": "null"}),
    "numeric labels 0/1": Case(
        to_csv([{**r, "Label": int(r["Label"] == "yes")} for r in BASE]), None, {"positive_label": "1"}
    ),
    "ID column (ignored)": Case(to_csv(with_column(BASE, "Customer ID", lambda n: 1000 + n)), None),
    "date column (ignored)": Case(
        to_csv(with_column(BASE, "Signup Date", lambda n: f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d}")), None
    ),
    "constant column (ignored)": Case(to_csv(with_column(BASE, "Country", "NL")), None),
    "2,000 columns": Case(wide(), None),
    # Refused, one line each.
    "empty file": Case(b"", "data.csv is empty"),
    "header only": Case(b"Size cm,Colour,Label\n", "data.csv has a header but no rows"),
    "duplicate column names": Case(b"Size,Colour,Size,Label\n1,red,2,yes\n", "column 'Size' appears twice"),
    "names equal once normalised": Case(
        b"Alcohol %,alcohol pct,Label\n1,2,yes\n", "column 'alcohol pct' and 'Alcohol %' both become 'alcohol_pct'"
    ),
    "a line with an extra field": Case(extra_field(to_csv(BASE), line=4), "line 4 has 5 fields but the header has 4"),
    "not UTF-8": Case(to_csv(changed(BASE, "Colour", {2: "caf\u00e9"})).decode().encode("latin-1"), "is not UTF-8"),
    "unquoted yes as positive_label": Case(to_csv(BASE), "YAML boolean true", {"positive_label": "yes"}),
    "positive_label not in the data": Case(
        to_csv(BASE),
        "data.positive_label is 'Yes' but target 'label' has the labels 'no', 'yes'",
        {"positive_label": '"Yes"'},
    ),
    "positive_label with three classes": Case(
        to_csv(table(labels=("low", "mid", "high"))), "set positive_label: null", {"positive_label": '"high"'}
    ),
    "unquoted labels in the schema": Case(
        to_csv(BASE),
        "validate: data/schema.yaml: target labels hold a YAML boolean",
        schema="target:\n  name: label\n  labels: [no, yes]\ncolumns:\n  size_cm: {type: float}\n"
        "  weight_pct: {type: float}\n  colour: {type: category}\n",
    ),
    "target not in the file": Case(
        to_csv(BASE), "target 'outcome' (params.yaml data.target) is not a column", {"target": "outcome"}
    ),
    "target with one class": Case(to_csv(table(labels=("yes",))), "target 'label' has one class ('yes')"),
    "extreme class imbalance": Case(
        to_csv(changed(BASE, "Label", {n: "no" for n in range(1, 140, 2)})), "rarest class 'yes' is 3.3% of rows"
    ),
    "a measurement as the target": Case(
        to_csv(BASE), "distinct values: this template trains classifiers", {"target": "Size cm"}
    ),
    "text in a numeric column": Case(
        to_csv(changed(BASE, "Size cm", {4: "n/a", 8: ""})),
        "column 'size_cm': 1 non-numeric values (first: 'n/a' in row 5)",
    ),
    "too many missing values": Case(
        to_csv(changed(BASE, "Weight %", {n: "" for n in range(0, 150, 3)})),
        "column 'weight_pct': 49 missing values (32.9%; validate.max_null_fraction allows 10%)",
    ),
}
assert len(CASES) >= 15

# Runs the chain of each case folder in-process, as `python -m <package>.<stage>` would (the same
# `mlops_gitops.errors.run`: one line on stderr, exit code 1); writes what each case printed.
DRIVER = r"""
import contextlib, importlib, io, json, os, sys, time, traceback
from pathlib import Path
from mlops_gitops.errors import run

package, out, folders = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
results = {}
for folder in folders:
    os.chdir(folder)
    chain = json.loads(Path("chain.json").read_text())
    result = {"code": 0, "stage": None, "stdout": "", "stderr": "", "traceback": ""}
    started = time.monotonic()
    for step in chain:
        name, *args = step.split()
        sys.argv = [name, *args]
        stdout, stderr = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = run(importlib.import_module(f"{package}.{name}").main, name)
        except BaseException:
            code, result["traceback"] = 2, traceback.format_exc()
        result["stdout"] += stdout.getvalue()
        result["stderr"] += stderr.getvalue()
        if code:
            result.update(code=code, stage=name)
            break
    result["seconds"] = round(time.monotonic() - started, 2)
    results[folder] = result
out.write_text(json.dumps(results))
"""


def set_params(text: str, **values: str) -> str:
    """params.yaml with `key: value` lines replaced, the value as YAML text (quotes kept)."""
    for key, value in values.items():
        text, found = re.subn(rf"(?m)^(\s+{re.escape(key)}:) [^#\n]*?(\s*#.*)?$", rf"\g<1> {value}\g<2>", text)
        assert found, key
    return text


def registered_versions(store: Path, model: str) -> int:
    if not store.exists():
        return 0
    with sqlite3.connect(store) as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master")}
        if "model_versions" not in tables:
            return 0
        return int(db.execute("select count(*) from model_versions where name = ?", (model,)).fetchone()[0])


def case_folder(root: Path, project: Path, number: int, case: Case) -> Path:
    folder = root / f"case-{number:02d}"
    (folder / "data/raw").mkdir(parents=True)
    (folder / "dvc.yaml").write_bytes((project / "dvc.yaml").read_bytes())
    data = {"raw": "data/raw/data.csv", "target": "Label", "positive_label": '"yes"', **case.params}
    params = set_params((project / "params.yaml").read_text(), **data, name=f"case-{number:02d}", n_estimators="20")
    (folder / "params.yaml").write_text(params)
    (folder / "data/raw/data.csv").write_bytes(case.data)
    chain = ["prepare", "validate", "featurize", "train"]
    if case.schema is None:
        chain.insert(0, "validate --infer data/raw/data.csv")
    else:
        (folder / "data/schema.yaml").write_text(case.schema)
    (folder / "chain.json").write_text(json.dumps(chain))
    return folder


def test_malformed_datasets_pass_or_fail_in_one_line(tmp_path: Path, shared_env) -> None:
    project = render(tmp_path / "render")
    venv = shared_env("3.11")
    folders = {name: case_folder(tmp_path, project, n, case) for n, (name, case) in enumerate(CASES.items())}
    groups = [list(folders.values())[i::2] for i in range(2)]

    def drive(worker: int, group: list[Path]) -> dict:
        env = project_command_env(venv)
        env.update(
            PYTHONPATH=str(project / "src"),
            MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / f'mlflow-{worker}.db'}",
            MLFLOW_ARTIFACT_LOCATION=str(tmp_path / "artifacts"),
        )
        env.pop("PROJECT_ROOT", None)
        out = tmp_path / f"results-{worker}.json"
        command = [str(venv / "bin/python"), "-c", DRIVER, PACKAGE, str(out), *map(str, group)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
        return {folder: (worker, result) for folder, result in json.loads(out.read_text()).items()}

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = {k: v for part in pool.map(drive, range(2), groups) for k, v in part.items()}
    took = time.monotonic() - started

    failures = []
    print(f"\n{'case':<36} outcome ({took:.0f} s for {len(CASES)} cases)")
    for name, case in CASES.items():
        folder = folders[name]
        worker, result = results[str(folder)]
        lines = [line for line in result["stderr"].splitlines() if line.strip()]
        versions = registered_versions(tmp_path / f"mlflow-{worker}.db", folder.name)
        trained = (folder / "models/model.joblib").exists()
        shown = "trained, registered" if result["code"] == 0 else " | ".join(lines)
        print(f"{name:<36} {shown}  [{result['seconds']:.1f} s]")
        if result["traceback"]:
            failures.append(f"{name}: traceback\n{result['traceback']}")
        elif case.expected is None:
            if result["code"] != 0 or not trained or versions != 1:
                failures.append(f"{name}: expected to train; {result['stage']} said {lines}")
        elif not (
            result["code"] == 1
            and len(lines) == 1
            and lines[0].startswith(f"{result['stage']}: ")
            and case.expected in lines[0]
            and not trained
            and versions == 0
        ):
            failures.append(f"{name}: expected one line with {case.expected!r}, got {lines} (exit {result['code']})")
    assert not failures, "\n".join(failures)
    assert results[str(folders["2,000 columns"])][1]["seconds"] < 60


# --------------------------------------------------------------------------------------------
# The wine journey.

# scikit-learn's wine data as a user's CSV (run in the project environment: it has scikit-learn).
WINE = r"""
import sys
import numpy as np
from sklearn.datasets import load_wine

frame = load_wine(as_frame=True).frame
names = {c: c.replace("_", " ").title() for c in frame.columns}
names.update(alcohol="Alcohol %", **{"od280/od315_of_diluted_wines": "OD280/OD315 of Diluted Wines"})
out = frame.drop(columns="target").rename(columns=names)
out["Region"] = np.random.default_rng(7).choice(["north", "south", "east"], size=len(out)).astype(object)
out.loc[[10, 100], "Region"] = None  # a category with two missing values
out.loc[[3, 50, 90, 150], "Ash"] = np.nan  # four missing numbers
if sys.argv[1] == "Premium":
    out["Premium"] = np.where(frame.target == 0, "yes", "no")
else:
    out["Cultivar"] = frame.target.map({0: "barolo", 1: "grignolino", 2: "barbera"})
out.to_csv(sys.argv[2], index=False)
"""


def run(project: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["uv", "run", *command], cwd=project, env=env, capture_output=True, text=True)


def test_wine_journey_reaches_a_registered_version_and_the_projects_tests_pass(tmp_path: Path, shared_env) -> None:
    project = render(tmp_path)
    git_init(project)
    venv = shared_env("3.11")
    # The shared environment does not hold the project's own package, which `uv sync` installs for a
    # user: src/ on the path stands for it (the Makefile does the same).
    env = {**project_command_env(venv), "PYTHONPATH": str(project / "src")}
    raw = project / "data/raw/wine.csv"
    params = project / "params.yaml"
    original = params.read_text()
    store = project / "mlflow.db"

    def swap(target: str, positive: str) -> None:
        """README "Using your own data", steps 1 to 4."""
        subprocess.run([str(venv / "bin/python"), "-c", WINE, target, str(raw)], check=True)
        added = run(project, env, "dvc", "add", "data/raw/wine.csv")
        assert added.returncode == 0, added.stderr
        params.write_text(set_params(original, raw="data/raw/wine.csv", target=target, positive_label=positive))
        inferred = run(project, env, "python", "-m", f"{PACKAGE}.validate", "--infer", "data/raw/wine.csv")
        assert inferred.returncode == 0, inferred.stderr
        print(inferred.stdout)
        make(project, "pipeline", env=env)

    # The first stumble: `positive_label: yes` unquoted is YAML's true. One line, exit 1.
    subprocess.run([str(venv / "bin/python"), "-c", WINE, "Premium", str(raw)], check=True)
    params.write_text(set_params(original, raw="data/raw/wine.csv", target="Premium", positive_label="yes"))
    refused = run(project, env, "python", "-m", f"{PACKAGE}.validate", "--infer", "data/raw/wine.csv")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines() == [
        "validate: params.yaml data.positive_label is the YAML boolean true (YAML reads unquoted yes/true/on so): "
        "quote the label, e.g. positive_label: 'yes'"
    ]

    swap("Premium", '"yes"')
    schema = yaml.safe_load((project / "data/schema.yaml").read_text())
    assert schema["target"] == {"name": "premium", "labels": ["no", "yes"]}
    assert schema["columns"]["alcohol_pct"]["type"] == "float"
    assert schema["columns"]["region"] == {"type": "category", "values": ["east", "north", "south"], "missing": 0.0112}
    assert schema["columns"]["ash"]["missing"] == 0.0225
    validation = json.loads((project / "reports/validation.json").read_text())
    assert validation["class_counts"] == {"no": 119, "yes": 59}
    assert validation["positive_label"] == "yes" and validation["classes"] == ["no", "yes"]
    assert validation["missing"] == {"ash": 0.0225, "region": 0.0112}
    assert validation["rows"] == 178 and validation["columns"] == 14
    registration = json.loads((project / "models/registration.json").read_text())
    assert registration["version"] == "1" and registered_versions(store, registration["model_name"]) == 1
    assert registration["metrics"]["roc_auc"] > 0.9

    tests = make(project, "test", env=env)  # the project's own tests, not one of them edited
    assert " passed" in tests.stdout and "skipped" not in tests.stdout, tests.stdout[-2000:]
    assert not subprocess.run(["git", "status", "--porcelain", "tests"], cwd=project, capture_output=True).stdout

    # Three classes (documented in docs/data.md): positive_label null, macro-averaged metrics.
    swap("Cultivar", "null")
    validation = json.loads((project / "reports/validation.json").read_text())
    assert validation["positive_label"] is None
    assert validation["classes"] == ["barbera", "barolo", "grignolino"]
    registration = json.loads((project / "models/registration.json").read_text())
    assert registration["version"] == "2" and registered_versions(store, registration["model_name"]) == 2
    with sqlite3.connect(store) as db:
        logged = dict(db.execute("select key, value from params where run_uuid = ?", (registration["run_id"],)))
    assert logged["average"] == "macro" and logged["classes"] == "3"
    metrics = json.loads((project / "metrics.json").read_text())
    assert set(metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}
    assert metrics["f1"] > 0.8 and metrics["roc_auc"] > 0.9
    assert (project / "plots/roc_curve.png").stat().st_size > 1000
    confusion = (project / "plots/confusion.csv").read_text()
    assert "grignolino" in confusion
