"""The template's release workflow (.github/workflows/release.yml) and its make targets, offline.

The workflow is linted alone with the same tools and helpers as every other workflow (zizmor
--offline, check-jsonschema, actionlint inside a git repository) and checked against the release
rules: pinned actions, the OIDC token only where the upload runs, no secret or token, every step a
make target. `make package` is then run for real on a copy of the Makefile and ops/: a wrong tag is
refused with one line, the right one builds the sdist and the wheel. Publishing itself needs PyPI
and GitHub's OIDC issuer: it is not run here (docs/packaging.md says how it is set up).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

from helpers.project import TEMPLATE
from helpers.workflows import PINS, actionlint, jsonschema, load, steps_of, workflow_triggers, zizmor

RELEASE = TEMPLATE / ".github/workflows/release.yml"
MAKEFILE = TEMPLATE / "Makefile"
OPS = TEMPLATE / "ops"


def ops_version() -> str:
    return tomllib.loads((OPS / "pyproject.toml").read_text())["project"]["version"]


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE.read_text(), re.MULTILINE))


def jobs() -> dict[str, dict[str, Any]]:
    return load(RELEASE)["jobs"]


# --- lints --------------------------------------------------------------------------------------


def test_release_workflow_lints_clean(tmp_path: Path) -> None:
    """zizmor, the workflow JSON schema and actionlint, on the release workflow alone."""
    repo = tmp_path / "repo"
    (repo / ".github/workflows").mkdir(parents=True)
    shutil.copy(RELEASE, repo / ".github/workflows/release.yml")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    zizmor(repo)
    jsonschema(repo)
    actionlint(repo)


# --- release rules ------------------------------------------------------------------------------


def test_runs_on_version_tags_only() -> None:
    assert workflow_triggers(RELEASE) == {"push": {"tags": ["v*"]}}


def test_every_action_is_pinned_to_a_known_commit() -> None:
    uses = [step["uses"] for job in jobs().values() for step in steps_of(job) if "uses" in step]
    assert uses
    for use in uses:
        action, _, ref = use.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{use}: not pinned by a full commit SHA"
        assert PINS.get(action, ("",))[0] == ref, f"{use}: not the commit of the shared pin list"
    for line in RELEASE.read_text().splitlines():
        if re.match(r"\s*(?:-\s+)?uses:", line):
            action = line.split("uses:")[1].split("@")[0].strip()
            assert f"# {PINS[action][1]}" in line, f"{action} needs the comment `# {PINS[action][1]}`"


def test_least_privilege() -> None:
    workflow = load(RELEASE)
    assert workflow["permissions"] == {}
    assert "concurrency" in workflow
    assert workflow["concurrency"]["cancel-in-progress"] is False, "never cancel an upload half-way"
    for job_id, job in workflow["jobs"].items():
        assert "timeout-minutes" in job, job_id
        for step in steps_of(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, job_id
    with_id_token = {job_id for job_id, job in workflow["jobs"].items() if job["permissions"].get("id-token")}
    assert with_id_token == {"publish"}
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read"}
    # contents: read only to check out the Makefile that `make publish` runs.
    assert workflow["jobs"]["publish"]["permissions"] == {"id-token": "write", "contents": "read"}
    publish = workflow["jobs"]["publish"]
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    # The job holding the OIDC token builds nothing: it uploads what build left.
    assert [str(s.get("run", "")) for s in steps_of(publish) if "run" in s] == ["make publish"]


def test_no_secret_or_token_is_referenced() -> None:
    # The parsed file (comments do not count), without the permission name `id-token`.
    text = json.dumps(load(RELEASE)).replace('"id-token"', "")
    for pattern in (r"secrets\.", r"github\.token", r"token", r"password", r"api[-_]?key"):
        assert not re.search(pattern, text, re.IGNORECASE), f"release.yml references {pattern!r}"
    publish = MAKEFILE.read_text().split("\npublish:", 1)[1].split("\n\n", 1)[0]
    assert "--trusted-publishing always" in publish
    assert "token" not in publish.replace("--trusted-publishing", "")


def test_every_run_step_is_a_make_target() -> None:
    targets = make_targets()
    runs = [str(step["run"]) for job in jobs().values() for step in steps_of(job) if "run" in step]
    assert runs == ["make package", "make publish"]
    for run in runs:
        for line in run.strip().splitlines():
            command = line.split()
            assert command[:1] == ["make"] and set(command[1:]) <= targets, f"`{line}`: not a make target"


def test_setup_uv_installs_the_makefile_uv_version() -> None:
    pinned = re.search(r"^UV_VERSION := (\S+)$", MAKEFILE.read_text(), re.MULTILINE)
    assert pinned
    setups = [
        s for job in jobs().values() for s in steps_of(job) if s.get("uses", "").startswith("astral-sh/setup-uv@")
    ]
    assert len(setups) == 2
    for setup in setups:
        assert setup["with"]["version"] == pinned.group(1)
        assert setup["with"]["enable-cache"] is False, "no cache a release could be poisoned through"


def test_artifact_hand_over_uses_ops_dist() -> None:
    build, publish = jobs()["build"], jobs()["publish"]
    upload = next(s for s in steps_of(build) if s.get("uses", "").startswith("actions/upload-artifact@"))
    download = next(s for s in steps_of(publish) if s.get("uses", "").startswith("actions/download-artifact@"))
    assert upload["with"]["path"].rstrip("/") == download["with"]["path"].rstrip("/") == "ops/dist"
    assert upload["with"]["name"] == download["with"]["name"]
    assert "ops/dist/" in (TEMPLATE / ".gitignore").read_text().splitlines()


def test_docs_name_the_trusted_publisher_settings() -> None:
    """PyPI's trusted publisher must name this workflow file and environment: the docs say which."""
    docs = (TEMPLATE / "docs/packaging.md").read_text()
    assert "release.yml" in docs and "`pypi`" in docs
    assert f"mlops-gitops=={ops_version()}" in docs


# --- make package -------------------------------------------------------------------------------


def run_package(tmp_path: Path, ref: str | None) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`make package` in a copy of the Makefile and ops/ (the checkout's ops/dist stays untouched)."""
    copy = tmp_path / "template"
    copy.mkdir()
    shutil.copy(MAKEFILE, copy / "Makefile")
    shutil.copytree(OPS, copy / "ops", ignore=shutil.ignore_patterns("dist", ".venv", "__pycache__", "*.egg-info"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS", "GITHUB_REF"))}
    # uv: the checkout's pinned one (make test installs it), found on PATH as in the release job.
    env["PATH"] = f"{TEMPLATE / '.tools/bin'}{os.pathsep}{env.get('PATH', '')}"
    args = ["make", "--no-print-directory", "-s", "package"] + ([f"GITHUB_REF_NAME={ref}"] if ref else [])
    done = subprocess.run(args, cwd=copy, env=env, capture_output=True, text=True, timeout=300)
    return done, copy / "ops/dist"


def test_package_refuses_a_tag_that_is_not_the_version(tmp_path: Path) -> None:
    done, dist = run_package(tmp_path, "v9.9.9")
    assert done.returncode != 0
    ours = [line for line in done.stderr.splitlines() if not line.startswith("make: ***")]
    assert len(ours) == 1, done.stderr
    assert "v9.9.9" in ours[0] and f"v{ops_version()}" in ours[0], ours[0]
    assert not dist.exists(), "nothing is built for a wrong tag"


def test_package_builds_sdist_and_wheel_for_the_version_tag(tmp_path: Path) -> None:
    version = ops_version()
    done, dist = run_package(tmp_path, f"v{version}")
    assert done.returncode == 0, done.stdout + done.stderr
    built = sorted(p.name for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    assert built == [
        f"mlops_gitops-{version}-py3-none-any.whl",
        f"mlops_gitops-{version}.tar.gz",
    ]


def test_package_without_a_version_tag_just_builds(tmp_path: Path) -> None:
    """A branch build (GITHUB_REF_NAME=main) or a laptop (unset) is not a release: no tag check."""
    done, dist = run_package(tmp_path, "main")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(list(dist.glob("*.whl"))) == 1
