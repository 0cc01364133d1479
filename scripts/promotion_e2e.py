"""End-to-end promotion flow on a generated project, through its own make targets.

    python scripts/promotion_e2e.py PROJECT_DIR

What a team does, with git commits standing in for merged PRs:
  1. two candidate versions of the model exist (when fewer do, it trains one more with the
     project's train stage, which needs `make pipeline` to have run);
  2. PR 1 points staging and production at the older one; apply;
  3. PR 2 points both at the newer one; plan, then apply: aliases, evidence tags, model card;
  4. `git revert` of PR 2, apply: the aliases are back (rollback);
  5. a second apply changes nothing (idempotence).
The registry is the project's: its local SQLite store, or MLFLOW_TRACKING_URI when set. Commands
run with the caller's environment (UV_PROJECT_ENVIRONMENT etc. are honoured). Exit 1 on any
mismatch. Uses the standard library only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

GIT = ["git", "-c", "user.name=Promotion Demo", "-c", "user.email=demo@example.com"]


class Failed(Exception):
    pass


def run(cmd: list[str], cwd: Path, env: dict[str, str], quiet: bool = False) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise Failed(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    if not quiet and done.stdout.strip():
        print("    " + done.stdout.strip().replace("\n", "\n    "))
    return done.stdout


def make(project: Path, env: dict[str, str], *args: str, quiet: bool = False) -> str:
    return run(["make", "--no-print-directory", "-s", *args], project, env, quiet)


def status(project: Path, env: dict[str, str]) -> dict:
    out = make(project, env, "promote-status", "FORMAT=json", quiet=True)
    return json.loads(out[out.index("{") :])


def lineage(project: Path, env: dict[str, str], ref: str) -> dict:
    out = make(project, env, "lineage", f"REF={ref}", "FORMAT=json", quiet=True)
    return json.loads(out[out.index("{") :])


def expect(actual: object, wanted: object, what: str) -> None:
    if actual != wanted:
        raise Failed(f"{what}: expected {wanted!r}, got {actual!r}")
    print(f"  ok  {what}: {actual!r}")


def commit(project: Path, env: dict[str, str], message: str) -> None:
    run([*GIT, "add", "deploy/models.yaml"], project, env, quiet=True)
    run([*GIT, "commit", "-q", "-m", message], project, env, quiet=True)


def propose(project: Path, env: dict[str, str], environment: str, version: str) -> None:
    make(project, env, "promote-propose", f"PROMOTE_ENV={environment}", f"PROMOTE_VERSION={version}")


def apply(project: Path, env: dict[str, str], pr: int) -> str:
    return make(project, env, "promote", f"PROMOTE_ARGS=--pr {pr} --approvers demo-reviewer --run-url local")


def ensure_candidates(project: Path, env: dict[str, str]) -> tuple[str, str]:
    versions = status(project, env)["versions"]
    if len(versions) < 2:
        package = next(project.glob("src/*/train.py")).parent.name
        print(f"  {len(versions)} candidate(s): training one more ({package}.train)")
        uv = env.get("UV", "uv")
        run([uv, "run", "python", "-m", f"{package}.train"], project, env)
        versions = status(project, env)["versions"]
    if len(versions) < 2:
        raise Failed(f"need two registered versions, found {versions}")
    return versions[-2], versions[-1]


def main(project: Path) -> int:
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    env.pop("PROJECT_ROOT", None)
    if not (project / ".git").is_dir():
        run([*GIT, "init", "-q", "-b", "main"], project, env, quiet=True)
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True).returncode != 0:
        run([*GIT, "add", "-A"], project, env, quiet=True)
        run([*GIT, "commit", "-q", "-m", "Generated"], project, env, quiet=True)

    print("1. candidates")
    old, new = ensure_candidates(project, env)
    print(f"  candidates v{old} and v{new}")

    print(f"2. PR 1: staging and production -> v{old}; merge; apply")
    propose(project, env, "staging", old)
    propose(project, env, "production", old)
    commit(project, env, f"Promote v{old} to staging and production")
    apply(project, env, pr=1)
    state = status(project, env)
    expect(state["aliases"].get("champion"), old, "champion after PR 1")

    print(f"3. PR 2: staging and production -> v{new}; plan; merge; apply")
    propose(project, env, "staging", new)
    propose(project, env, "production", new)
    make(project, env, "promote-plan")
    commit(project, env, f"Promote v{new} to staging and production")
    apply(project, env, pr=2)
    aliases = status(project, env)["aliases"]
    expect(aliases.get("champion"), new, "champion after PR 2")
    expect(aliases.get("staging"), new, "staging after PR 2")
    expect(aliases.get("previous-champion"), old, "previous-champion after PR 2")
    info = lineage(project, env, "champion")
    expect(info["promotions"]["production"]["pr"], "2", "evidence tag promotion.production.pr")
    expect(info["promotions"]["production"]["approvers"], "demo-reviewer", "evidence tag approvers")
    expect(info["model_card"].endswith(f"-v{new}.md"), True, "model card attached to the version")
    make(project, env, "lineage", "REF=champion")

    print("4. rollback: git revert of PR 2; apply")
    run([*GIT, "revert", "--no-edit", "HEAD"], project, env, quiet=True)
    apply(project, env, pr=3)
    aliases = status(project, env)["aliases"]
    expect(aliases.get("champion"), old, "champion after the revert")
    expect(aliases.get("staging"), old, "staging after the revert")
    expect(aliases.get("previous-champion"), new, "previous-champion after the revert")

    print("5. apply again: nothing to do")
    expect("nothing to do" in apply(project, env, pr=3), True, "second apply is a no-op")
    print("promotion end-to-end: passed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/promotion_e2e.py PROJECT_DIR")
    try:
        sys.exit(main(Path(sys.argv[1]).resolve()))
    except Failed as exc:
        print(f"promotion end-to-end: FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
