"""CML contract test (a contract test, not an integration test).

`@dvcorg/cml` cannot be installed here (it is not on the npm registry this machine reaches), so a
fake `cml` stands in: it checks each invocation against CML's documented command line (the
subcommands and flags of iterative/cml v0.20, see helpers.workflows.CML_CONTRACT), records it and
fails on anything else. This file proves the fake is strict, and that the project's make targets
that the workflows call (`comment-report`, `comment-plan`) pass it. The act runs
(test_act_runs.py) post the real report through the same fake. On GitHub, the real, pinned CML
release (`make install-cml`) runs the same command lines.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from helpers.project import render
from helpers.workflows import cml_calls, install_fake_cml


@pytest.fixture
def fake(tmp_path: Path):
    log = install_fake_cml(tmp_path / "bin")
    report = tmp_path / "reports/report.md"
    (report.parent / "plots").mkdir(parents=True)
    (report.parent / "plots/roc.png").write_bytes(b"png")
    report.write_text("## Report\n\n![ROC](plots/roc.png)\n")

    def call(*args: str, token: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "REPO_TOKEN"}
        if token:
            env["REPO_TOKEN"] = "t"
        return subprocess.run([str(tmp_path / "bin/cml"), *args], cwd=tmp_path, env=env, capture_output=True, text=True)

    return call, log


@pytest.mark.parametrize(
    "args",
    [
        ["comment", "update", "--target=pr", "--watermark-title=Model report", "reports/report.md"],
        ["comment", "create", "reports/report.md"],
        ["comment", "update", "--target", "pr/42", "--no-publish", "reports/report.md"],
        ["comment", "create", "--target=commit/f00ba4", "--log=debug", "--driver=github", "reports/report.md"],
        ["comment", "update", "--watermark-title", "Terraform plan", "--native", "reports/report.md"],
    ],
)
def test_documented_invocations_pass(fake, args: list[str]) -> None:
    call, log = fake
    done = call(*args)
    assert done.returncode == 0, done.stderr
    assert cml_calls(log)[-1]["command"] == " ".join(args[:2])


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["comment", "post", "reports/report.md"], "unknown command"),
        (["send-comment", "reports/report.md"], "unknown command"),
        (["comment", "update", "--watermark=x", "reports/report.md"], "unknown option --watermark"),
        (["comment", "update", "--target=main", "reports/report.md"], "--target=main is not a valid value"),
        (["comment", "update", "--watermark-title", "reports/report.md"], "takes ['markdown file']"),
        (["comment", "update", "--rm-watermark", "--watermark-title=x", "reports/report.md"], "conflicts"),
        (["comment", "update", "--target=pr", "--pr", "reports/report.md"], "conflicts"),
        (["comment", "update", "--publish=yes", "reports/report.md"], "is a flag"),
        (["comment", "update", "--driver=gitea", "reports/report.md"], "is not one of"),
        (["comment", "update", "reports/missing.md"], "does not exist"),
        (["comment", "update"], "takes ['markdown file']"),
    ],
)
def test_anything_else_fails(fake, args: list[str], reason: str) -> None:
    call, log = fake
    done = call(*args)
    assert done.returncode != 0
    assert reason in done.stderr, done.stderr
    assert cml_calls(log)[-1]["error"]


def test_missing_images_and_token_fail(fake, tmp_path: Path) -> None:
    call, _ = fake
    assert "no token" in call("comment", "update", "reports/report.md", token=False).stderr
    (tmp_path / "reports/plots/roc.png").unlink()
    assert "images linked from" in call("comment", "update", "reports/report.md").stderr


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_project_comment_targets_pass_the_contract(cloud: str, tmp_path: Path) -> None:
    """`make comment-report` and `make comment-plan`, as the workflows call them."""
    project = render(tmp_path / "render", cloud_provider=cloud)
    log = install_fake_cml(tmp_path / "bin")
    reports = project / "reports"
    (reports / "plots").mkdir(parents=True)
    (reports / "plots/roc_curve.png").write_bytes(b"png")
    (reports / "report.md").write_text("## Model report\n\n![ROC curve](plots/roc_curve.png)\n")
    (reports / "terraform-plan.md").write_text("## Terraform plan\n\nPlan: 1 to add, 0 to change, 0 to destroy.\n")
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}", "REPO_TOKEN": "t"}
    for target in ("comment-report", "comment-plan"):
        done = subprocess.run(
            ["make", "--no-print-directory", "-C", str(project), target], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    calls = cml_calls(log)
    assert [(c["command"], c["options"]["watermark-title"], c["file"]) for c in calls] == [
        ("comment update", "Model report", "reports/report.md"),
        ("comment update", "Terraform plan", "reports/terraform-plan.md"),
    ]
    assert all(c["options"]["target"] == "pr" for c in calls)
