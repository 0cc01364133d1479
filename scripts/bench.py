"""Benchmark figures (printed, never asserted): `make bench`.

1. generation: `cookiecutter --no-input` of the template vs bare `cookiecutter --version`;
2. no-op pipeline: `make pipeline` with nothing to do vs `dvc status`, in the demo project;
3. full pipeline: `dvc repro --force` in the demo project (all five stages, this machine's cores);
4. the whole template suite: the duration the last `make test` recorded.
Goals (from the foundation issue): <= 1.3x, <= 1.2x, <= 30 s, <= 20 min.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEMO = Path(os.environ.get("DEMO_DIR", Path(tempfile.gettempdir()) / "mlops-gitops-demo"))
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "DVC_NO_ANALYTICS": "1"}


def timed(command: list[str], cwd: Path | None = None, runs: int = 5, before=None) -> float:
    """Median wall time of `runs` runs, in seconds."""
    samples = []
    env = {**os.environ, **QUIET}
    env.pop("VIRTUAL_ENV", None)
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def generation() -> None:
    out = Path(tempfile.mkdtemp(prefix="bench-gen-"))
    cookiecutter = str(BIN / "cookiecutter")
    bare = timed([cookiecutter, "--version"])
    render = timed(
        [cookiecutter, "--no-input", "-f", "-o", str(out), str(TEMPLATE)],
        before=lambda: shutil.rmtree(out / "diagnosis-classifier", ignore_errors=True),
    )
    shutil.rmtree(out)
    print(
        f"generation        {render:6.2f} s vs cookiecutter --version {bare:5.2f} s"
        f" = {render / bare:.2f}x  (goal <= 1.3x)"
    )


def pipeline() -> None:
    project = next(DEMO.glob("*/dvc.yaml"), None)
    if project is None:
        print(f"pipeline          skipped: no demo project in {DEMO}; run `make demo` first")
        return
    project = project.parent
    dvc = str(project / ".venv/bin/dvc")
    subprocess.run(["make", "pipeline"], cwd=project, check=True, capture_output=True, env={**os.environ, **QUIET})
    status = timed([dvc, "status"], cwd=project)
    noop = timed(["make", "pipeline"], cwd=project)
    print(
        f"no-op pipeline    {noop:6.2f} s (make pipeline) vs dvc status {status:5.2f} s"
        f" = {noop / status:.2f}x  (goal <= 1.2x)"
    )
    full = timed(["uv", "run", "dvc", "repro", "--force"], cwd=project, runs=1)
    print(f"full pipeline     {full:6.2f} s (uv run dvc repro --force, {os.cpu_count()} cores)  (goal <= 30 s)")


def suite() -> None:
    record = TEMPLATE / ".cache/last-suite-seconds"
    if not record.exists():
        print("template suite    not measured yet: run `make test`")
        return
    seconds, when = record.read_text().split()
    print(f"template suite    {float(seconds) / 60:6.2f} min (last `make test`, {when})  (goal <= 20 min)")


if __name__ == "__main__":
    generation()
    pipeline()
    suite()
