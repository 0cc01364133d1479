"""Benchmark figure of drift monitoring (called by scripts/bench.py; runnable alone):
`mlops-gitops monitor report` on 1,000,000 recent rows against the breast-cancer training split.

The scene (a minimal project, a SQLite registry whose champion carries the split's lineage tag, four
CSV batches of 250,000 rows resampled from the split, with predictions) is built by one subprocess;
the report runs in another, started by a wrapper process of its own so that its peak RSS
(getrusage RUSAGE_CHILDREN of the wrapper) is the report's alone. Both run in a Python environment
that has the package's dependencies: $BENCH_PYTHON, else the demo project's, else the newest shared
project environment in .cache/; the package comes from this checkout (ops/src).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
ROWS = 1_000_000
BATCHES = 4
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "DVC_NO_ANALYTICS": "1"}

SETUP = """
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from mlflow import MlflowClient
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from mlops_gitops.lineage import file_md5
from mlops_gitops.project import load
from mlops_gitops.testing import register_candidate

root, rows, batches = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
bunch = load_breast_cancer(as_frame=True)
frame = bunch.frame.drop(columns=["target"])
frame.columns = [c.strip().lower().replace(" ", "_") for c in frame.columns]
frame = frame.assign(malignant=(bunch.target == 0).astype(int))
train, _ = train_test_split(frame, test_size=0.2, random_state=42, stratify=frame["malignant"])
schema = {"target": {"name": "malignant", "labels": ["0", "1"]},
          "columns": {c: {"type": "float", "min": 0.0, "max": float(frame[c].max()) * 3} for c in frame.columns[:-1]}}
params = {
    "model": {"name": "bench-model", "experiment": "bench"},
    "data": {"raw": "data/raw/dataset.csv", "schema": "data/schema.yaml", "target": "malignant", "positive_label": "1"},
    "validate": {"min_rows": 100, "max_null_fraction": 0.1},
    "gate": {"primary_metric": "roc_auc", "higher_is_better": True},
    "monitor": {"batches": "monitoring"},
}
(root / "data/features").mkdir(parents=True)
(root / "params.yaml").write_text(yaml.safe_dump(params))
(root / "data/schema.yaml").write_text(yaml.safe_dump(schema))
train.to_csv(root / "data/features/train.csv", index=False, float_format="%.6g", lineterminator="\\n")
cfg = load(root)
client = MlflowClient(tracking_uri=cfg.tracking_uri, registry_uri=cfg.tracking_uri)
version = register_candidate(client, cfg, trained_from={})
run_id = client.get_model_version("bench-model", version).run_id
client.set_tag(run_id, "dvc.data/features/train.csv.md5", file_md5(root / "data/features/train.csv"))
client.set_registered_model_alias("bench-model", "champion", version)
rng = np.random.default_rng(0)
(root / "monitoring").mkdir()
train = train.reset_index(drop=True)
for number in range(batches):
    size = rows // batches
    batch = train.iloc[rng.integers(0, len(train), size)].reset_index(drop=True)
    flip = rng.random(size) < 0.05
    batch["prediction"] = np.where(flip, 1 - batch["malignant"], batch["malignant"])
    batch.drop(columns=["malignant"]).to_csv(
        root / f"monitoring/batch-{number}.csv", index=False, float_format="%.6g", lineterminator="\\n"
    )
"""

# The wrapper: its only child is the report, so RUSAGE_CHILDREN's peak is the report's.
WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run([sys.executable, "-m", "mlops_gitops", "monitor", "report"], capture_output=True, text=True)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{done.returncode} {seconds:.3f} {peak:.1f}")
print(done.stdout.strip() or done.stderr.strip())
"""


def python() -> str:
    if os.environ.get("BENCH_PYTHON"):
        return os.environ["BENCH_PYTHON"]
    demo = Path(os.environ.get("DEMO_DIR", Path(tempfile.gettempdir()) / "mlops-gitops-demo")) / ".venv/bin/python"
    candidates = [demo] if demo.is_file() else []
    envs = sorted((TEMPLATE / ".cache").glob("project-env-*/bin/python"), key=lambda p: p.stat().st_mtime, reverse=True)
    for candidate in [*candidates, *envs]:
        probe = subprocess.run([str(candidate), "-c", "import scipy, sklearn, mlflow, matplotlib"], capture_output=True)
        if probe.returncode == 0:
            return str(candidate)
    raise SystemExit("bench_monitor: no Python with scipy, scikit-learn, mlflow and matplotlib: set BENCH_PYTHON")


def monitor() -> None:
    """Print one line: the report's wall time and peak RSS on 1,000,000 recent rows."""
    exe = python()
    scene = Path(tempfile.mkdtemp(prefix="bench-monitor-"))
    env = {**os.environ, **QUIET, "PYTHONPATH": str(TEMPLATE / "ops/src"), "PROJECT_ROOT": str(scene)}
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_ARTIFACT_LOCATION", "MONITOR_URL", "GITHUB_OUTPUT", "VIRTUAL_ENV"):
        env.pop(name, None)
    try:
        subprocess.run(
            [exe, "-c", textwrap.dedent(SETUP), str(scene), str(ROWS), str(BATCHES)],
            cwd=scene, env=env, check=True, capture_output=True,
        )  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run([exe, "-c", WRAPPER], cwd=scene, env=env, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - started
        first, verdict = [*done.stdout.strip().split("\n", 1), ""][:2]
        code, seconds, peak = first.split()
        if code != "0":
            raise SystemExit(f"bench_monitor: the report failed: {verdict}")
        print(
            f"monitor           {float(seconds):.1f} s, peak RSS {float(peak):.0f} MiB on {ROWS:,} rows "
            f"(goal < 60 s, < 1 GiB)"
        )
        if os.environ.get("BENCH_VERBOSE"):
            print(f"  {verdict} (wrapper {wall:.1f} s)")
    finally:
        shutil.rmtree(scene, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(monitor())
