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

    print(f"""
Done. The generated project is {project}
  report    {project / "reports/report.md"} (images in reports/plots/)
  metrics   {project / "metrics.json"}
  plots     {project / "plots"}
  registry  {project / "mlflow.db"} (SQLite; artifacts in {project / "mlartifacts"})
  data      DVC cache {project / ".dvc/cache"}, local remote {project / ".dvc-storage"}
  promotion {project / "deploy/models.yaml"} (desired state; `git log deploy/models.yaml` is the audit trail)
MLflow UI:  cd {project} && make ui   then open http://127.0.0.1:5000
""")


if __name__ == "__main__":
    main()
