"""Benchmark figures (printed, never asserted): `make bench`.

1. generation: `cookiecutter --no-input` of the template vs bare `cookiecutter --version` (paired runs);
2. no-op pipeline: `make pipeline` with nothing to do vs `dvc status`, in the demo project;
3. full pipeline: `dvc repro --force` in the demo project (all five stages, this machine's cores);
4. drift monitoring: `mlops-gitops monitor report` on 1,000,000 recent rows (scripts/bench_monitor.py);
5. the whole template suite: the duration the last `make test` recorded.
Goals (from the issues): <= 1.3x, <= 1.2x, <= 30 s, monitor < 60 s and < 1 GiB, <= 20 min.
"""

from __future__ import annotations

import os
import resource
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


def generation(runs: int = 10) -> None:
    """`cookiecutter --no-input` of the template against bare `cookiecutter --version`, in pairs.

    Each of the `runs` rounds runs both commands back to back, in alternating order, so that load
    on a shared machine weighs on both alike; printed: the median wall time of each, their ratio
    (the goal), and the same for CPU time (user + system of the process and its hooks, which load
    disturbs less). Bytecode is cached as on a user's machine, even where PYTHONDONTWRITEBYTECODE
    is set, in .cache/ (never in .venv); one unmeasured round warms it.
    """
    out = Path(tempfile.mkdtemp(prefix="bench-gen-"))
    cookiecutter = str(BIN / "cookiecutter")
    env = {**os.environ, **QUIET, "PYTHONPYCACHEPREFIX": str(TEMPLATE / ".cache/bench-pycache")}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    commands = {
        "bare": [cookiecutter, "--version"],
        "render": [cookiecutter, "--no-input", "-f", "-o", str(out), str(TEMPLATE)],
    }
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}

    def run(name: str) -> None:
        shutil.rmtree(out / "diagnosis-classifier", ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(commands[name], env=env, check=True, capture_output=True)
        wall[name].append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)

    for name in commands:  # warm-up: bytecode, disk cache
        run(name)
        wall[name].clear()
        cpu[name].clear()
    for index in range(runs):
        for name in ("bare", "render") if index % 2 == 0 else ("render", "bare"):
            run(name)
    shutil.rmtree(out)
    render, bare = statistics.median(wall["render"]), statistics.median(wall["bare"])
    render_cpu, bare_cpu = statistics.median(cpu["render"]), statistics.median(cpu["bare"])
    print(
        f"generation        {render:6.2f} s vs cookiecutter --version {bare:5.2f} s = {render / bare:.2f}x"
        f"  (goal <= 1.3x; medians of {runs} paired runs; CPU {render_cpu:.2f} s vs {bare_cpu:.2f} s"
        f" = {render_cpu / bare_cpu:.2f}x)"
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
    from bench_monitor import monitor

    generation()
    pipeline()
    monitor()
    suite()
