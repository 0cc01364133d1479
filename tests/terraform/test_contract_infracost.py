"""Contract tests, not integration tests: infracost's scanner is downloaded from GitHub and prices
come from its cloud API, neither reachable here. These check statically what the Terraform
workflow's cost job relies on, against the inputs the pinned action declares, and run the local
`make tf-cost` as far as it goes without infracost."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

DIFF_ACTION = "infracost/actions/diff"
DIFF_SHA = "fb736a8f219195d6efdca58682069b16fe1bc280"  # v4.2.0
# The inputs `diff/action.yml` declares at that commit; `api-key` is its only required one, and
# scanning needs both paths (its run step stops with "base-path and head-path are required").
DIFF_INPUTS = {
    "api-key",
    "base-path",
    "head-path",
    "version",
    "project",
    "pr-status",
    "github-token",
    "github-owner",
    "github-repo",
    "pr-number",
    "repo-url",
}
KEY_GUARD = "${{ env.INFRACOST_API_KEY != '' }}"


def cost_job(project: Path) -> dict:
    workflow = yaml.safe_load((project / ".github/workflows/terraform.yml").read_text())
    return workflow["jobs"]["cost"]


def test_contract_infracost_diff_inputs(aws_project: Path) -> None:
    """The diff action at its pinned commit, given only inputs it declares, the key from a secret,
    and a base and a head checkout of this repository."""
    job = cost_job(aws_project)
    steps = job["steps"]
    diff = [s for s in steps if s.get("uses", "").startswith(f"{DIFF_ACTION}@")]
    assert [s["uses"] for s in diff] == [f"{DIFF_ACTION}@{DIFF_SHA}"]
    given = diff[0]["with"]
    assert set(given) <= DIFF_INPUTS, set(given) - DIFF_INPUTS
    assert given["api-key"] == "${{ env.INFRACOST_API_KEY }}"
    assert job["env"]["INFRACOST_API_KEY"] == "${{ secrets.INFRACOST_API_KEY }}"
    # The scanner version: pinned by a repository variable, or the action's own default.
    assert re.fullmatch(r"\$\{\{ vars\.INFRACOST_SCANNER_VERSION \|\| 'latest' \}\}", given["version"])

    checkouts = {s["with"]["path"]: s["with"] for s in steps if s.get("uses", "").startswith("actions/checkout@")}
    assert set(checkouts) == {given["base-path"], given["head-path"]}
    assert checkouts[given["base-path"]]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert "ref" not in checkouts[given["head-path"]]  # the PR's own commit
    assert all(c["persist-credentials"] is False for c in checkouts.values())
    # The checkouts are the repository root: the scanner finds the cloud's Terraform there.
    assert list((aws_project / "terraform/aws").glob("*.tf"))


def test_contract_infracost_job_is_opt_in_and_least_privilege(aws_project: Path) -> None:
    """No cloud identity beside a downloaded binary; only same-repository PRs; every step skipped
    until the secret exists, so a project without infracost stays green."""
    job = cost_job(aws_project)
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert job["needs"] == "validate"
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert all(step.get("if") == KEY_GUARD for step in job["steps"])
    assert not any("cloud-auth" in step.get("uses", "") for step in job["steps"])


def test_tf_cost_without_infracost_says_what_to_do(aws_project: Path) -> None:
    """`make tf-cost`, the local equivalent, names the missing tool in one line and fails."""
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "infracost").exists())
    done = subprocess.run(
        ["make", "--no-print-directory", "tf-cost"],
        cwd=aws_project,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("tf-cost: infracost is not installed"), done.stderr
    assert len([line for line in lines if not re.match(r"make(\[\d+\])?: ", line)]) == 1, done.stderr
