"""Benchmark of the pipeline's scaling (printed, never asserted): `make bench-scale`.

Usage: python scripts/bench_scale.py [--before GIT_REF] [ROWS ...]   (default rows: 100000 1000000)

For each size, a default (aws) project is rendered into a temp folder, given ROWS synthetic rows
shaped like the bundled breast-cancer data (its 30 numeric features jittered around resampled
rows, so no two rows are equal, and the same class balance), pointed at them (params.yaml
data.raw), and `dvc repro --force` runs in the shared project environment (tests/helpers/project.py).

What is measured:
- total: the wall time of `dvc repro --force` (the five stages plus DVC's own work);
- per stage: a wrapper put in front of each stage's command in the bench copy of dvc.yaml reports
  the command's wall time, CPU time (user + system; above the wall time means several cores) and
  peak RSS (the wrapper's RUSAGE_CHILDREN ru_maxrss: the largest single process of the stage);
- `dvc`: total minus the stages, i.e. DVC's hashing, lock file and start-up.

--before GIT_REF also measures the template at that commit (`git archive`), size by size, back to
back with the working tree, and prints both. Goals (issue #16): 1M rows within 10x the 100k time,
peak RSS <= 2 GiB in every stage, training on every core.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
STAGES = ("prepare", "validate", "featurize", "train", "evaluate")
GOAL_RATIO, GOAL_RSS_MIB = 10.0, 2048
BENCH_RAW = "data/raw/bench.csv"

# Runs in the project environment: N rows like data/raw/breast_cancer.csv, written as CSV.
WRITE_DATA = r"""
import sys
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

source, dest, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
bundled = pd.read_csv(source)
target = bundled.columns[-1]
features = bundled.drop(columns=[target]).to_numpy(dtype=float)
rng = np.random.default_rng(0)
picked = rng.integers(0, len(bundled), rows)  # resampling keeps the class balance
spread = features.std(axis=0) * 0.05
values = np.clip(features[picked] + rng.normal(0.0, 1.0, (rows, features.shape[1])) * spread, 0.0, None)
# About four significant digits, as in the bundled file.
decimals = 3 - np.floor(np.log10(np.median(features, axis=0))).astype(int)
columns = {name: np.round(values[:, i], decimals[i]) for i, name in enumerate(bundled.columns[:-1])}
columns[target] = bundled[target].to_numpy()[picked]
with open(dest, "wb") as out:  # the header unquoted, as in the bundled file
    out.write((",".join(columns) + "\n").encode())
    pacsv.write_csv(pa.table(columns), out, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
"""


def stage_wrapper(name: str, log: str, command: str) -> int:
    """Run one stage's command (as DVC would: through the shell) and append its figures to `log`."""
    started = time.perf_counter()
    code = subprocess.run(command, shell=True).returncode
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = {"stage": name, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024}
    with open(log, "a") as out:
        out.write(json.dumps(figures) + "\n")
    return code


def template_at(ref: str, into: Path) -> Path:
    """The template's files at commit `ref`, extracted into `into`."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(TEMPLATE), "archive", ref], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def bench_project(template: Path, where: Path, rows: int, venv: Path) -> Path:
    """A rendered project with `rows` synthetic rows and every stage's command wrapped."""
    import yaml
    from cookiecutter.main import cookiecutter

    from helpers.project import git_init

    with quiet_stdout():
        project = Path(cookiecutter(str(template), no_input=True, output_dir=str(where)))
    subprocess.run(
        [str(venv / "bin/python"), "-c", WRITE_DATA, str(project / "data/raw/breast_cancer.csv"),
         str(project / BENCH_RAW), str(rows)],
        check=True,
    )  # fmt: skip
    params = project / "params.yaml"
    text = params.read_text()
    if "raw: data/raw/breast_cancer.csv" not in text:
        raise SystemExit(f"bench_scale: {params} has no 'raw: data/raw/breast_cancer.csv' line to point elsewhere")
    params.write_text(text.replace("raw: data/raw/breast_cancer.csv", f"raw: {BENCH_RAW}", 1))
    pipeline = yaml.safe_load((project / "dvc.yaml").read_text())
    log = where / "stages.jsonl"
    for name, stage in pipeline["stages"].items():
        wrapper = [sys.executable, str(Path(__file__).resolve()), "--stage", name, str(log), stage["cmd"]]
        stage["cmd"] = shlex.join(wrapper)
    (project / "dvc.yaml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    git_init(project)
    return project


def measure(template: Path, rows: int, venv: Path) -> dict:
    from helpers.project import project_command_env

    where = Path(tempfile.mkdtemp(prefix=f"bench-scale-{rows}-"))
    try:
        project = bench_project(template, where, rows, venv)
        env = {**project_command_env(venv), "PYTHONPATH": str(project / "src")}
        started = time.perf_counter()
        done = subprocess.run(
            ["uv", "run", "--no-sync", "dvc", "repro", "--force"], cwd=project, env=env, capture_output=True, text=True
        )
        total = time.perf_counter() - started
        if done.returncode != 0:
            output = f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
            raise SystemExit(f"bench_scale: dvc repro failed on {rows:,} rows:\n{output}")
        stages = {line["stage"]: line for line in map(json.loads, (where / "stages.jsonl").read_text().splitlines())}
        prepared = sorted(p.name for p in (project / "data/prepared").iterdir() if not p.name.startswith("."))
        return {"rows": rows, "total": total, "stages": stages, "prepared": prepared}
    finally:
        shutil.rmtree(where, ignore_errors=True)


def table(label: str, results: list[dict]) -> None:
    """One line per stage; per size its wall time, CPU time and peak RSS; the wall-time ratio."""
    small, large = results[0], results[-1]
    print(f"\n{label}: dvc repro --force on {os.cpu_count()} cores")
    head = "".join(f"{r['rows']:>15,} rows: wall s, CPU s, RSS MiB" for r in results)
    print(f"  {'stage':<10}{head}{'ratio':>8}")
    for name in (*STAGES, "dvc", "total"):
        cells, walls = [], []
        for result in results:
            if name in result["stages"]:
                stage = result["stages"][name]
                walls.append(stage["wall"])
                cells.append(f"{stage['wall']:9.1f}{stage['cpu']:9.1f}{stage['rss']:9.0f}")
            else:  # DVC's own work (total minus the stages) and the total
                own = result["total"] - sum(s["wall"] for s in result["stages"].values())
                walls.append(own if name == "dvc" else result["total"])
                cells.append(f"{walls[-1]:9.1f}{'':18}")
        ratio = f"{walls[-1] / walls[0]:7.1f}x" if len(walls) > 1 and walls[0] else ""
        print(f"  {name:<10}" + "".join(f"{c:>47}" for c in cells) + ratio)
    peak = max(s["rss"] for s in large["stages"].values())
    train = large["stages"]["train"]
    parts = [f"peak RSS {peak:.0f} MiB (goal <= {GOAL_RSS_MIB})"]
    if large is not small:
        parts.insert(
            0,
            f"{large['rows']:,} rows in {large['total'] / small['total']:.1f}x the {small['rows']:,}-row time "
            f"({large['rows'] / small['rows']:.0f}x rows; goal <= {GOAL_RATIO:.0f}x)",
        )
    parts.append(f"train CPU/wall {train['cpu'] / train['wall']:.2f} on {os.cpu_count()} cores")
    parts.append(f"prepared: {', '.join(large['prepared'])}")
    print("  " + "; ".join(parts))


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """cookiecutter's hooks print the next steps of every render: not wanted among the figures."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(TEMPLATE / "tests"))
    from helpers.project import QUIET_ENV, project_env

    os.environ.update(QUIET_ENV)
    before = None
    if argv[:1] == ["--before"]:
        before, argv = argv[1], argv[2:]
    sizes = [int(n) for n in argv] or [100_000, 1_000_000]
    scratch = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        with quiet_stdout():
            venv = project_env("3.11", scratch / "requirements")
        templates = {"after (working tree)": TEMPLATE}
        if before:
            templates = {f"before ({before})": template_at(before, scratch / "before"), **templates}
        results: dict[str, list[dict]] = {label: [] for label in templates}
        for rows in sizes:  # each size back to back for every template: load weighs on both alike
            for label, template in templates.items():
                results[label].append(measure(template, rows, venv))
                print(f"  measured {label} on {rows:,} rows: {results[label][-1]['total']:.1f} s", flush=True)
        for label, measured in results.items():
            table(label, measured)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--stage"]:
        sys.exit(stage_wrapper(*sys.argv[2:5]))
    main(sys.argv[1:])
