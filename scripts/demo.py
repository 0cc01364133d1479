"""README command 1: generate a project with default answers and run its whole loop locally.

Usage: python scripts/demo.py DEST. DEST must lie outside the template's sources; a previous
demo there is replaced. Needs the network only for the first install of the project's packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
MARKER = ".mlops-gitops-demo"
# The change of docs/quickstart.md's walk-through, made on a branch after main's model is trained.
BRANCH = "shallower-trees"
CHANGE = ("max_depth: 6", "max_depth: 3")
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "DVC_NO_ANALYTICS": "1"}


def fail(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr)
    raise SystemExit(1)


def step(title: str, command: list[str], cwd: Path) -> None:
    print(f"\n==> {title}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_NO_SYNC")}
    done = subprocess.run(command, cwd=cwd, env={**env, **QUIET})
    if done.returncode != 0:
        fail(f"'{' '.join(command)}' failed in {cwd} (exit {done.returncode}); see the output above")
    print(f"    ({time.monotonic() - started:.1f} s)", flush=True)


def change_parameter(params: Path) -> None:
    text = params.read_text()
    if CHANGE[0] not in text:
        fail(f"{params} has no '{CHANGE[0]}' to change; the walk-through of docs/quickstart.md needs it")
    params.write_text(text.replace(CHANGE[0], CHANGE[1], 1))
    print(f"\n==> params.yaml on {BRANCH}: {CHANGE[0]} -> {CHANGE[1]}", flush=True)


def show_metrics_table(report: Path) -> None:
    """The report's sentence on main's model and its metrics table, as the PR would show them."""
    lines = report.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(("`main`'s model", "No model of"))), None)
    if start is None:
        fail(f"{report} does not say which model of main it compares with")
    shown = [lines[start], ""]
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        shown.append(line)
    print("\n    " + "\n    ".join(shown), flush=True)


def prepare_destination(dest: Path) -> None:
    if dest == TEMPLATE or TEMPLATE in dest.parents:
        fail(f"{dest} is inside the template's sources; pass a folder outside {TEMPLATE}")
    if dest.exists():
        if not (dest / MARKER).exists():
            fail(f"{dest} exists and is not a previous demo; pass an empty or new folder")
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / MARKER).write_text("made by the template's `make demo`; safe to delete\n")


def main() -> None:
    if len(sys.argv) != 2:
        fail("usage: python scripts/demo.py DEST")
    dest = Path(sys.argv[1]).resolve()
    prepare_destination(dest)
    print(f"==> generating a project with default answers into {dest}")
    project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(dest)))
    git = ["git", "-c", "user.name=Demo", "-c", "user.email=demo@example.com"]
    step("git repository", ["git", "init", "-q", "-b", "main"], project)
    step("environment, hooks and data", ["make", "setup"], project)
    step("first commit", [*git, "add", "-A"], project)
    step("first commit", [*git, "commit", "-q", "-m", "Generated from the MLOps GitOps template"], project)
    step("pipeline", ["make", "pipeline"], project)
    step("report", ["make", "report"], project)
    # Promotion as a reviewed change: plan, apply, revert, reconcile (docs/promotion.md).
    step("promotion end to end", [sys.executable, str(TEMPLATE / "scripts/promotion_e2e.py"), str(project)], project)
    # docs/quickstart.md "Change something and see its effect": a parameter changed on a branch;
    # the report compares the new model with main's (found by lineage) and with the champion.
    step("a branch", ["git", "switch", "-q", "-c", BRANCH], project)
    change_parameter(project / "params.yaml")
    step("pipeline on the branch", ["make", "pipeline"], project)
    step("report on the branch", ["make", "report"], project)
    show_metrics_table(project / "reports/report.md")

    print(f"""
Done. The generated project is {project}
  report    {project / "reports/report.md"} (images in reports/plots/): branch {BRANCH} ({CHANGE[1]})
            against main's model and the champion
  metrics   {project / "metrics.json"}
  plots     {project / "plots"}
  registry  {project / "mlflow.db"} (SQLite; artifacts in {project / "mlartifacts"})
  data      DVC cache {project / ".dvc/cache"}, local remote {project / ".dvc-storage"}
  promotion {project / "deploy/models.yaml"} (desired state; `git log deploy/models.yaml` is the audit trail)
MLflow UI:  cd {project} && make ui   then open http://127.0.0.1:5000
""")


if __name__ == "__main__":
    main()
