"""The promotion workflow: its structure (hardening rules), and a CONTRACT test of its CML calls.

CML cannot be installed here, so `fake_bin/cml` stands in: it checks each call against CML's
documented subcommands and flags and records it. This proves the command lines, not GitHub's side.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers.project import TEMPLATE, render
from helpers.workflows import VERIFIED_BEYOND_SHARED

FAKE_BIN = Path(__file__).with_name("fake_bin")
PINS = TEMPLATE.parent / "shared/actions-pins.md"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("wf"), project_name="Promotion Workflow")


def workflow(project: Path) -> dict:
    return yaml.safe_load((project / ".github/workflows/promote.yml").read_text())


def cml(args: list[str], cwd: Path, log: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{FAKE_BIN}{os.pathsep}{os.environ['PATH']}", "CML_CONTRACT_LOG": str(log)}
    return subprocess.run(["cml", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_hardening(project: Path) -> None:
    data = workflow(project)
    assert data["permissions"] == {}
    assert "pull_request_target" not in data[True]
    jobs = data["jobs"]
    assert jobs["apply"]["environment"] == "production"
    assert jobs["apply"]["concurrency"] == {"group": "promote-production", "cancel-in-progress": False}
    assert jobs["apply"]["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "read"}
    assert jobs["plan"]["permissions"]["pull-requests"] == "write"
    for name, job in jobs.items():
        # apply also deploys: two SageMaker blue/green canaries with their baking periods.
        assert job["timeout-minutes"] <= (120 if name == "apply" else 15) and "concurrency" in job, name
        for step in job["steps"]:
            uses = step.get("uses", "")
            if uses.startswith("actions/checkout"):
                assert step["with"]["persist-credentials"] is False
            if uses and not uses.startswith("./"):
                sha = uses.split("@")[1]
                assert len(sha) == 40, uses
                known = not PINS.exists() or sha in PINS.read_text()
                assert known or any(sha in note for note in VERIFIED_BEYOND_SHARED.values()), uses
            assert "${{" not in step.get("run", ""), f"{name}: expression inside run:"
    text = (project / ".github/workflows/promote.yml").read_text()
    assert "{%" not in text and "{{ cookiecutter" not in text and "${{ github.sha }}" in text


def test_plan_comment_matches_cml_contract(project: Path, tmp_path: Path) -> None:
    (project / "reports").mkdir(exist_ok=True)
    (project / "reports/promotion_plan.md").write_text("## Promotion plan\n")
    log = tmp_path / "cml.jsonl"
    env = {**os.environ, "PATH": f"{FAKE_BIN}{os.pathsep}{os.environ['PATH']}", "CML_CONTRACT_LOG": str(log)}
    done = subprocess.run(
        ["make", "-s", "-C", str(project), "comment-promotion"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    call = json.loads(log.read_text())
    assert call == {
        "command": ["comment", "update"],
        "flags": {"target": "pr", "watermark-title": "Promotion plan"},
        "paths": ["reports/promotion_plan.md"],
    }


def test_promotion_pr_matches_cml_contract_and_keeps_input_as_data(project: Path, tmp_path: Path) -> None:
    step = next(s for s in workflow(project)["jobs"]["propose"]["steps"] if s.get("run") == "make promote-pr")
    assert step["run"] == "make promote-pr" and set(step["env"]) >= {"PROMOTE_ENV", "PROMOTE_VERSION", "REPO_TOKEN"}
    (project / "reports").mkdir(exist_ok=True)
    (project / "reports/promotion_pr.md").write_text("## Promotion plan\n\nv3 passes the gate.\n")
    log = tmp_path / "cml.jsonl"
    hostile = '3"; touch pwned; echo "$(touch pwned2)'
    env = {
        **os.environ,
        "PATH": f"{FAKE_BIN}{os.pathsep}{os.environ['PATH']}",
        "CML_CONTRACT_LOG": str(log),
        "PROMOTE_ENV": "production",
        "PROMOTE_VERSION": hostile,
        "GITHUB_RUN_ID": "42",
        "REPO_TOKEN": "t",
    }
    done = subprocess.run(["make", "-s", "-C", str(project), "promote-pr"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    call = json.loads(log.read_text())
    assert call["command"] == ["pr", "create"] and call["paths"] == ["deploy/models.yaml"]
    assert call["flags"]["branch"] == "promote-production-42" and call["flags"]["target-branch"] == "main"
    assert call["flags"]["title"] == f"Promote production: {hostile}"
    assert "v3 passes the gate." in call["flags"]["body"]
    assert not (project / "pwned").exists() and not (project / "pwned2").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pr", "create", "--bogus", "x"], "unknown flag --bogus"),
        (["pr", "create", "--merge", "--squash", "f"], "conflicts"),
        (["pr", "create", "--title"], "needs a value"),
        (["comment", "update", "--target=pr", "missing.md"], "no such report file"),
        (["pr", "open"], "unknown command"),
    ],
)
def test_contract_stand_in_refuses_what_cml_refuses(tmp_path: Path, args: list[str], message: str) -> None:
    done = cml(args, tmp_path, tmp_path / "log")
    assert done.returncode == 2 and message in done.stderr
