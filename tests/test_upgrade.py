"""Template updates, as docs/upgrading.md tells a project to do them.

A project generated with `cruft create` from an older template commit (helpers/upgrade.py's
ORIGINS: the oldest supported commit and the previous release) is committed, edited the way its
users do (a parameter, a stage's code, the dataset), then brought to the template under test with
`cruft update`. After the update every file the user did not touch is exactly what the template
renders today (so no conflict, no leftover), the user's edits are still there, and the project's
own `make lint` and `make test` pass. A second test bumps only the mlops-gitops pin of a
previous-release project, as Dependabot does, and runs the same checks.

Project commands run in the shared environment (the current project pins and this checkout's
mlops-gitops wheel); the tests prove it is a faithful stand-in (the pins agree). Updated projects
whose trees are identical are checked once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers.project import TEMPLATE, WHEELS, make, project_command_env, uv
from helpers.upgrade import (
    ORIGINS,
    PREVIOUS_RELEASE,
    answers,
    build_old_package,
    commit_all,
    conflict_markers,
    cruft,
    cruft_create,
    git,
    locked_versions,
    pins,
    project_files,
    render_from,
    require_history,
    template_repository,
    version,
)

pytestmark = pytest.mark.slow

# The user's edits, each chosen where the template's own changes since ORIGINS do not reach, so
# that git merges them without a conflict: (file, text as generated, text as edited).
MAX_DEPTH = ("params.yaml", "    max_depth: 6\n", "    max_depth: 8\n")
STAGE_CODE = (
    "src/{package}/train.py",
    "    options = dict(params.get(name) or {})\n",
    "    options = dict(params.get(name) or {})\n"
    '    if name == "random_forest":\n'
    '        options.setdefault("n_jobs", 1)  # our CI runners have one core to spare\n',
)
DATA, KEEP_ROWS = "data/raw/breast_cancer.csv", 500


def edited(text: str, before: str, after: str, where: str) -> str:
    assert text.count(before) == 1, f"{where} no longer holds {before!r} once: move the test's edit"
    return text.replace(before, after)


@dataclass
class Updated:
    project: Path
    update: subprocess.CompletedProcess  # what `cruft update` printed
    touched: dict[str, str] = field(default_factory=dict)  # file -> what the user made of it
    conflicts: list[str] = field(default_factory=list)  # right after `cruft update`
    unmerged: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The template under test as a repository (history + working tree), tagged v<version>."""
    return template_repository(tmp_path_factory.mktemp("template") / "repository")


@pytest.fixture(scope="module")
def env(shared_env) -> dict[str, str]:
    command_env = project_command_env(shared_env())
    # test_project.py may run mypy at the same time in another worker: a cache of our own.
    command_env["MYPY_CACHE_DIR"] += "-upgrade"
    return command_env


def user_edits(project: Path, env: dict[str, str]) -> dict[str, str]:
    """A parameter, a stage's code and the dataset (README's "Using your own data": `dvc add`,
    commit the .dvc file), committed; returns each edited file's content."""
    package = answers(project)["package_name"]
    touched = {}
    for relative, before, after in (MAX_DEPTH, STAGE_CODE):
        relative = relative.format(package=package)
        text = edited((project / relative).read_text(), before, after, relative)
        (project / relative).write_text(text)
        touched[relative] = text
    raw = project / DATA
    rows = raw.read_text().splitlines(keepends=True)
    raw.write_text("".join(rows[: 1 + KEEP_ROWS]))
    done = subprocess.run(["uv", "run", "dvc", "add", DATA], cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    touched[f"{DATA}.dvc"] = (project / f"{DATA}.dvc").read_text()
    commit_all(project, "Fewer rows, a deeper forest, one job per forest")
    return touched


@pytest.fixture(scope="module")
def updated(template, env, tmp_path_factory: pytest.TempPathFactory):
    """origin name -> the project generated there, edited, then updated (made on first use)."""
    repository, _ = template
    made: dict[str, Updated] = {}

    def get(name: str) -> Updated:
        if name not in made:
            project = cruft_create(repository, ORIGINS[name].commit, tmp_path_factory.mktemp(name))
            touched = user_edits(project, env)
            update = cruft("update", "--skip-apply-ask", "--checkout", f"v{version()}", cwd=project)
            unmerged = git(project, "diff", "--name-only", "--diff-filter=U").split()
            result = Updated(project, update, touched, conflict_markers(project), unmerged)
            commit_all(project, f"Template v{version()} (cruft update)")
            made[name] = result
        return made[name]

    return get


@pytest.fixture(scope="module")
def checks(env):
    """`make lint` and `make test` of a project, once per distinct git tree."""
    done: dict[str, dict[str, subprocess.CompletedProcess]] = {}

    def run(project: Path) -> dict[str, subprocess.CompletedProcess]:
        tree = git(project, "rev-parse", "HEAD^{tree}").strip()
        assert not git(project, "status", "--porcelain"), "checks run on a committed tree"
        if tree not in done:
            done[tree] = {target: make(project, target, env=env, check=False) for target in ("lint", "test")}
        return done[tree]

    return run


def assert_passed(results: dict[str, subprocess.CompletedProcess], what: str) -> None:
    for target, result in results.items():
        assert result.returncode == 0, f"make {target} failed {what}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


@pytest.mark.parametrize("origin", sorted(ORIGINS))
def test_update_merges_cleanly_and_keeps_the_users_edits(origin: str, updated, template, tmp_path: Path) -> None:
    result = updated(origin)
    project, (_, head) = result.project, template
    origin_commit = ORIGINS[origin].commit[:7]
    print(f"cruft update from {origin} ({origin_commit}):\n{result.update.stdout}{result.update.stderr}")
    printed = result.update.stdout + result.update.stderr
    # cruft merges with `git apply -3`; when that fails as a whole it falls back to direct
    # application, hunk by hunk, and says so: not a clean update even when no .rej is left.
    assert "Failed to apply the update" not in printed, f"cruft's three-way merge failed:\n{printed[-4000:]}"
    touched = set(result.touched)
    untouched_conflicts = [f for f in result.conflicts + result.unmerged if f not in touched]
    assert not untouched_conflicts, f"conflicts in files the user never touched: {untouched_conflicts}"
    assert not result.conflicts and not result.unmerged, (
        f"the template now changes the lines the test's user edits touch ({result.conflicts or result.unmerged}): "
        "move the edits (MAX_DEPTH, STAGE_CODE) where the template does not reach"
    )

    # Every file the user did not touch is what the template renders today, with the same answers.
    fresh = render_from(template[0], tmp_path, answers(project))
    subprocess.run(["git", "init", "-q"], cwd=fresh, check=True)
    mine, theirs = project_files(project), project_files(fresh)
    assert set(mine) - {".cruft.json"} == set(theirs), "files differ from a fresh render of the template"
    differing = {f for f in theirs if mine[f] != theirs[f]}
    assert differing <= touched, f"the update left these untouched files unlike the template: {differing - touched}"

    # The user's edits survive, on top of the template's own changes to those files.
    package = answers(project)["package_name"]
    for relative, before, after in (MAX_DEPTH, STAGE_CODE):
        relative = relative.format(package=package)
        assert (project / relative).read_text() == edited((fresh / relative).read_text(), before, after, relative)
    assert (project / f"{DATA}.dvc").read_text() == result.touched[f"{DATA}.dvc"]
    raw = (project / DATA).read_bytes()
    assert raw.count(b"\n") == 1 + KEEP_ROWS
    assert f"md5: {hashlib.md5(raw).hexdigest()}" in (project / f"{DATA}.dvc").read_text()

    state = json.loads((project / ".cruft.json").read_text())
    assert state["commit"] == head
    assert state["checkout"] == f"v{version()}"
    assert f'"mlops-gitops=={version()}"' in (project / "pyproject.toml").read_text()


@pytest.mark.parametrize("origin", sorted(ORIGINS))
def test_updated_project_passes_its_checks(origin: str, updated, checks) -> None:
    assert_passed(checks(updated(origin).project), f"after the update from {origin}")


def lock(project: Path, links: Path, *args: str) -> None:
    """`uv lock` as `make setup` and Dependabot run it; mlops-gitops from `links` (never published).

    Offline first: the project's other pins come from uv's cache, which the suite's installs fill.
    A cold cache (a new machine) lacks the metadata of other platforms' packages: then online, as
    `make setup` does."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_OFFLINE")}
    env["UV_FIND_LINKS"] = str(links)
    for offline in (["--offline"], []):
        done = subprocess.run([uv(), "lock", *offline, *args], cwd=project, env=env, capture_output=True, text=True)
        if done.returncode == 0:
            return
    pytest.fail(f"uv lock {' '.join(args)} failed in {project}:\n{done.stderr[-3000:]}")


def test_pin_bump_alone_passes_the_checks(template, checks, tmp_path: Path) -> None:
    """Dependabot's PR on a previous-release project: only mlops-gitops moves, glue stays old."""
    repository, _ = template
    project = cruft_create(repository, PREVIOUS_RELEASE.commit, tmp_path / "project")
    links = tmp_path / "links"
    links.mkdir()
    old_wheel = build_old_package(PREVIOUS_RELEASE.commit, tmp_path / "old-package")
    for wheel in (old_wheel, *WHEELS.glob("mlops_gitops-*.whl")):
        (links / wheel.name).write_bytes(wheel.read_bytes())
    lock(project, links)  # the user's `make setup` wrote uv.lock; they commit it
    commit_all(project, "uv.lock")
    before = locked_versions(project / "uv.lock")
    assert before["mlops-gitops"] == PREVIOUS_RELEASE.version

    pyproject = project / "pyproject.toml"
    old_pin, new_pin = f'"mlops-gitops=={PREVIOUS_RELEASE.version}"', f'"mlops-gitops=={version()}"'
    pyproject.write_text(edited(pyproject.read_text(), old_pin, new_pin, "pyproject.toml"))
    lock(project, links, "--upgrade-package", "mlops-gitops")
    commit_all(project, f"Bump mlops-gitops from {PREVIOUS_RELEASE.version} to {version()}")
    assert git(project, "diff", "--name-only", "HEAD~1").split() == ["pyproject.toml", "uv.lock"]
    after = locked_versions(project / "uv.lock")
    assert {k: v for k, v in after.items() if before.get(k) != v} == {"mlops-gitops": version()}
    lock(project, links, "--check")  # `uv sync --locked` (make ci-setup) accepts it

    # Every other pin is one the current template keeps (it may add pins, e.g. pyarrow in 0.4.0):
    # the shared environment, which holds the current pins, stands in for this project.
    fresh = render_from(repository, tmp_path / "fresh", answers(project))
    kept, current = pins(pyproject), pins(fresh / "pyproject.toml")
    assert all(set(kept[group]) <= set(current[group]) for group in kept), (kept, current)
    assert_passed(checks(project), "with only the pin bumped")


def test_docs_name_the_supported_origins() -> None:
    doc = (TEMPLATE / "docs/upgrading.md").read_text()
    for origin in ORIGINS.values():
        assert origin.commit[:7] in doc, f"docs/upgrading.md does not name {origin.commit[:7]} ({origin.why})"
    assert re.search(rf"\bv{re.escape(version())}\b", doc) or "v<version>" in doc
    assert "git fetch --unshallow" in doc


def test_missing_history_fails_with_one_line() -> None:
    """A commit the clone lacks (a shallow clone) fails the tests and says how to fix it, never skips."""
    with pytest.raises(pytest.fail.Exception, match=r"not in this clone's history .* run `git fetch --unshallow`"):
        require_history("0" * 40)
