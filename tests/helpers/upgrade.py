"""Helpers of the template-update tests (tests/test_upgrade.py, docs/upgrading.md).

A generated project follows the template with cruft: `cruft create` records the template's commit
in `.cruft.json`, `cruft update` applies the template's diff since that commit. The tests need a
template repository whose history holds the old commits and whose HEAD is the template under
test (the working tree, uncommitted changes included): `template_repository()` builds one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from helpers.project import TEMPLATE, uv


@dataclass(frozen=True)
class Origin:
    """A template commit that generated projects may update from."""

    commit: str
    version: str  # the mlops-gitops pin its projects carry
    why: str


# The template commits a project may be generated from and still update with `cruft update`.
# docs/upgrading.md names them (a test checks it): change both together.
ORIGINS = {
    # The first commit with the machinery in the mlops-gitops package: projects generated before
    # it carry the machinery in src/ and must be generated again.
    "oldest-supported": Origin(
        "54e88d3582342879349db0c28289d34424f78f8f", "0.2.0", "oldest supported: first with the mlops-gitops pin"
    ),
    # The last state of 0.3.0, never tagged (nothing was published): the previous release.
    "previous-release": Origin("1e4e77dda767eb12dafd36ab79194f88b9a85be3", "0.3.0", "previous release: 0.3.0"),
}
PREVIOUS_RELEASE = ORIGINS["previous-release"]

GIT_USER = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]


def version() -> str:
    """The template's version (= the mlops-gitops package's): its release tag is v<version>."""
    return tomllib.loads((TEMPLATE / "pyproject.toml").read_text())["project"]["version"]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def commit_all(project: Path, message: str) -> str:
    git(project, "add", "-A")
    git(project, *GIT_USER, "commit", "-q", "--allow-empty", "-m", message)
    return git(project, "rev-parse", "HEAD").strip()


def require_history(*commits: str) -> None:
    """Fail (never skip) when the template's clone lacks a commit the tests update from."""
    for commit in commits:
        found = subprocess.run(
            ["git", "-C", str(TEMPLATE), "merge-base", "--is-ancestor", commit, "HEAD"], capture_output=True
        )
        if found.returncode != 0:
            pytest.fail(
                f"template commit {commit[:7]} is not in this clone's history (a shallow clone?): "
                "run `git fetch --unshallow` (CI: actions/checkout with fetch-depth: 0)",
                pytrace=False,
            )


def template_repository(dest: Path) -> tuple[Path, str]:
    """A clone of the template whose HEAD is the working tree under test, tagged v<version>.

    Returns the repository and its HEAD commit. The files are those git would commit here:
    tracked ones as they are on disk (deleted ones left out) and untracked ones not ignored. The
    tests render from this copy, never from the working tree, which may change meanwhile."""
    require_history(*(origin.commit for origin in ORIGINS.values()))
    git(TEMPLATE.parent, "clone", "-q", "--no-checkout", str(TEMPLATE), str(dest))
    git(dest, "update-ref", "refs/heads/under-test", "HEAD")
    git(dest, "symbolic-ref", "HEAD", "refs/heads/under-test")
    listed = git(TEMPLATE, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for relative in filter(None, listed):
        source = TEMPLATE / relative
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree, not yet committed
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / relative, follow_symlinks=False)
    # -f: the template tracks files that its own .gitignore files hide (the shipped dataset).
    git(dest, "add", "-A", "-f")
    head = commit_all(dest, "The template under test (working tree)")
    git(dest, "tag", "-f", f"v{version()}")
    return dest, head


def cruft(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The cruft command line of the template's environment; fails the test on a non-zero exit."""
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "cruft", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        pytest.fail(f"cruft {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def cruft_create(template: Path, commit: str, output_dir: Path) -> Path:
    """`cruft create --checkout COMMIT` with default answers, then the user's first commit."""
    output_dir.mkdir(parents=True, exist_ok=True)
    before = set(output_dir.iterdir())
    cruft("create", str(template), "--checkout", commit, "--no-input", "--output-dir", str(output_dir), cwd=output_dir)
    (project,) = set(output_dir.iterdir()) - before
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    return project


def pins(pyproject: Path) -> dict[str, list[str]]:
    data = tomllib.loads(pyproject.read_text())
    return {"dependencies": data["project"]["dependencies"], "dev": data["dependency-groups"]["dev"]}


def locked_versions(lock: Path) -> dict[str, str]:
    return {p["name"]: p.get("version", "") for p in tomllib.loads(lock.read_text())["package"]}


def project_files(project: Path) -> dict[str, str]:
    """Every file git would hold in `project` (tracked or not ignored), with its content's hash."""
    listed = git(project, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    return {f: hashlib.sha256((project / f).read_bytes()).hexdigest() for f in filter(None, listed)}


def conflict_markers(project: Path) -> list[str]:
    """Files holding git's conflict markers, and patch leftovers (*.rej, *.orig) anywhere."""
    found = []
    for path in project.rglob("*"):
        if ".git" in path.relative_to(project).parts or not path.is_file():
            continue
        relative = str(path.relative_to(project))
        if path.suffix in (".rej", ".orig"):
            found.append(relative)
            continue
        lines = path.read_bytes().splitlines()
        if any(line.startswith((b"<<<<<<< ", b">>>>>>> ")) for line in lines) and b"=======" in lines:
            found.append(relative)
    return sorted(found)


def render_from(template: Path, output_dir: Path, answers: dict[str, str]) -> Path:
    """A fresh render of `template` (a folder) with `answers`, hooks included."""
    output_dir.mkdir(parents=True, exist_ok=True)
    return Path(cookiecutter(str(template), no_input=True, output_dir=str(output_dir), extra_context=answers))


def answers(project: Path) -> dict[str, str]:
    """The answers `.cruft.json` records (cookiecutter's private variables left out)."""
    context = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    return {k: v for k, v in context.items() if not k.startswith("_")}


def build_old_package(commit: str, dest: Path) -> Path:
    """The mlops-gitops wheel of an old template commit, built from its ops/ (it was never
    published): what the project's pin named when it was generated."""
    source = dest / "src"
    source.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(TEMPLATE), "archive", commit, "ops"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    wheels = dest / "wheels"
    subprocess.run([uv(), "build", "-q", "--wheel", "--out-dir", str(wheels), str(source / "ops")], check=True)
    return next(wheels.glob("mlops_gitops-*.whl"))
