"""The required checks of main (terraform/github) against the generated workflows.

GitHub blocks a merge until every required check has reported success, and a check reports only
when its job runs: a workflow filtered by `paths` never starts on the PRs it skips, so a check
of it would block them forever. The rule, checked on the parsed files:
- no workflow started by pull requests filters them by `paths` or `paths-ignore`;
- each such workflow has one last job (no other job of it that runs on a PR needs it); that job
  needs every other one of them, directly or through others, runs whatever they did (no `if:`,
  or exactly `always() && github.event_name == 'pull_request'`) and its `name:` is unique;
- the required checks are exactly the names of those last jobs.
What a path filter decided, the `changes` jobs decide with `make changed`: that target runs here
on real commits and agrees with GitHub's filter semantics (helpers.workflows.paths_trigger).
"""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from helpers.project import git_init, render
from helpers.workflows import git, load, paths_trigger, workflow_files, workflow_triggers

REQUIRED = ["checks", "pipeline", "terraform", "promotion"]
ALWAYS = "always() && github.event_name == 'pull_request'"
OTHER_EVENTS = ("push", "workflow_dispatch", "schedule", "release", "workflow_run")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An AWS render (the cloud with terraform/github) in a repository with one commit on main."""
    rendered = render(tmp_path_factory.mktemp("required-checks"), project_name="Required Checks")
    git_init(rendered)
    return rendered


def workflows_of(project: Path) -> dict[str, dict[str, Any]]:
    return {path.name: load(path) for path in workflow_files(project)}


def required_checks(project: Path) -> list[str]:
    options = SerializationOptions(with_comments=False, strip_string_quotes=True)
    text = (project / "terraform/github/variables.tf").read_text()
    variables = {
        k: v for entry in hcl2.loads(text, serialization_options=options)["variable"] for k, v in entry.items()
    }
    return variables["required_status_checks"]["default"]


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # PyYAML reads the bare key `on` as True
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


def condition(job: dict[str, Any]) -> str:
    text = str(job.get("if", "")).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2].strip()
    return text


def runs_on_pull_requests(job: dict[str, Any]) -> bool:
    """False for a job whose condition names only other events (push, dispatch...)."""
    text = condition(job)
    if "github.event_name == 'pull_request'" in text:
        return True
    return not any(f"github.event_name == '{event}'" in text for event in OTHER_EVENTS)


def needs_of(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def problems(workflows: dict[str, dict[str, Any]], required: list[str]) -> list[str]:
    """Every way the workflows fail the rule of the module docstring, one line each."""
    found: list[str] = []
    names: dict[str, list[str]] = {}
    for file, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            names.setdefault(str(job.get("name", job_id)), []).append(f"{file}:{job_id}")
    last_jobs: list[str] = []
    for file, workflow in sorted(workflows.items()):
        on = triggers(workflow)
        if "pull_request" not in on:
            continue
        for key in ("paths", "paths-ignore"):
            if key in (on["pull_request"] or {}):
                found.append(f"{file}: the pull_request trigger has `{key}`, so its check never reports on other PRs")
        jobs = {job_id: job for job_id, job in workflow["jobs"].items() if runs_on_pull_requests(job)}
        needed = {need for job in jobs.values() for need in needs_of(job)}
        last = [job_id for job_id in jobs if job_id not in needed]
        if len(last) != 1:
            found.append(f"{file}: {len(last)} last jobs on a pull request ({last}), not one that needs the others")
            continue
        job_id = last[0]
        job = jobs[job_id]
        name = str(job.get("name", job_id))
        last_jobs.append(name)
        if condition(job) not in ("", ALWAYS):
            found.append(f"{file}:{job_id}: `if: {condition(job)}` could skip the check (use `{ALWAYS}`)")
        reached, todo = set(), needs_of(job)
        while todo:
            need = todo.pop()
            if need not in reached:
                reached.add(need)
                todo.extend(needs_of(workflow["jobs"].get(need, {})))
        missing = set(jobs) - reached - {job_id}
        if missing:
            found.append(f"{file}:{job_id}: does not need {sorted(missing)}, so its check ignores them")
        if len(names[name]) > 1:
            found.append(f"{file}:{job_id}: the name {name!r} is also the name of {names[name]}")
    if sorted(last_jobs) != sorted(required):
        found.append(f"required checks {sorted(required)} are not the last jobs' names {sorted(last_jobs)}")
    return found


def test_required_checks_are_the_jobs_that_always_report(project: Path) -> None:
    required = required_checks(project)
    assert required == REQUIRED
    assert problems(workflows_of(project), required) == []


def test_main_tf_requires_the_variable_strictly(project: Path) -> None:
    options = SerializationOptions(with_comments=False, strip_string_quotes=True)
    main = hcl2.loads((project / "terraform/github/main.tf").read_text(), serialization_options=options)
    protection = next(
        r["github_branch_protection"]["main"] for r in main["resource"] if "github_branch_protection" in r
    )
    assert protection["enforce_admins"] is True
    assert protection["required_status_checks"] == [
        {"strict": True, "contexts": "${var.required_status_checks}", "__is_block__": True}
    ]


def test_no_pull_request_trigger_is_filtered_by_path(project: Path) -> None:
    for path in workflow_files(project):
        pull_request = triggers(load(path)).get("pull_request") or {}
        assert not {"paths", "paths-ignore"} & set(pull_request), path.name


def rename_last_job(w: dict) -> None:
    w["pr-pipeline.yml"]["jobs"]["pipeline"]["name"] = "pipeline verdict"


def filter_by_path(w: dict) -> None:
    w["terraform.yml"]["on"] = {"pull_request": {"paths": ["terraform/**"]}}


def condition_on_changes(w: dict) -> None:
    w["promote.yml"]["jobs"]["promotion"]["if"] = "${{ needs.changes.outputs.run == 'true' }}"


def forget_a_job(w: dict) -> None:
    w["pr-pipeline.yml"]["jobs"]["pipeline"]["needs"] = ["changes"]


def add_a_job(w: dict) -> None:
    w["terraform.yml"]["jobs"]["docs"] = {"name": "docs", "runs-on": "ubuntu-latest", "steps": []}


def rename_checks(w: dict) -> None:
    w["checks.yml"]["jobs"]["checks"]["name"] = "pre-commit and tests"


def duplicate_name(w: dict) -> None:
    w["promote.yml"]["jobs"]["plan"]["name"] = "terraform"


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (rename_last_job, "are not the last jobs' names"),
        (rename_checks, "are not the last jobs' names"),
        (filter_by_path, "the pull_request trigger has `paths`"),
        (condition_on_changes, "could skip the check"),
        (forget_a_job, "2 last jobs on a pull request (['train', 'pipeline'])"),
        (add_a_job, "2 last jobs on a pull request"),
        (duplicate_name, "is also the name of"),
    ],
)
def test_the_rule_catches(break_it, message: str, project: Path) -> None:
    """The checker fails on each way a required check stops reporting (or stops covering a job)."""
    workflows = copy.deepcopy(workflows_of(project))
    break_it(workflows)
    found = problems(workflows, required_checks(project))
    assert any(message in line for line in found), found


# --- `make changed`, what the path filters decided -------------------------------------------


def changed_paths(project: Path, workflow: str) -> list[str]:
    job = load(project / ".github/workflows" / workflow)["jobs"]["changes"]
    step = next(s for s in job["steps"] if s.get("run") == "make changed")
    assert step["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    checkout = job["steps"][0]["with"]
    assert checkout["fetch-depth"] == 0 and checkout["persist-credentials"] is False
    return step["env"]["CHANGED_PATHS"].split()


def make_env(**values: str) -> dict[str, str]:
    """This environment without the variables `make changed` reads, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in ("BASE_SHA", "CHANGED_PATHS", "GITHUB_OUTPUT")}
    return {**env, **values}


def make_changed(project: Path, files: list[str], patterns: list[str], tmp_path: Path) -> bool:
    """Commit `files` (created or appended to) on a branch off main; `make changed` against main."""
    git(project, "checkout", "-q", "-B", "change", "main")
    try:
        for name in files:
            path = project / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as out:
                out.write("# changed\n")
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", "Change")
        output = tmp_path / "github-output"
        done = subprocess.run(
            ["make", "-s", "changed", "BASE_SHA=main", f"CHANGED_PATHS={' '.join(patterns)}"],
            cwd=project,
            env=make_env(GITHUB_OUTPUT=str(output)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        verdict = output.read_text().strip()
        assert verdict in ("run=true", "run=false") and done.stdout.strip().endswith(verdict), done.stdout
        return verdict == "run=true"
    finally:
        git(project, "checkout", "-q", "-f", "main")


CASES = {
    "pr-pipeline.yml": [
        (["README.md", "docs/architecture.md"], False),
        (["docs/workflows.md"], False),
        ([".github/CODEOWNERS", "LICENSE"], False),
        (["params.yaml"], True),
        (["src/{package}/train.py"], True),
        (["src/{package}/stages/new_stage.py"], True),
        (["data/raw/breast_cancer.csv.dvc"], True),
        (["dvc.lock", "README.md"], True),
        (["pyproject.toml", "uv.lock"], False),  # a pin bump of mlops-gitops: checks and tests only
        ([".github/actions/cloud-auth/action.yml"], True),
        (["terraform/aws/main.tf"], False),
    ],
    "terraform.yml": [
        (["terraform/aws/storage.tf"], True),
        ([".tflint.hcl"], True),
        (["params.yaml", "README.md"], False),
        (["deploy/models.yaml"], False),
    ],
    "promote.yml": [
        (["deploy/models.yaml"], True),
        (["params.yaml", "src/{package}/train.py"], False),
        ([".github/workflows/promote.yml"], True),
    ],
}


@pytest.mark.parametrize(
    ("workflow", "changed", "runs"),
    [(workflow, changed, runs) for workflow, cases in CASES.items() for changed, runs in cases],
)
def test_changes_job_decides_like_a_path_filter(
    workflow: str, changed: list[str], runs: bool, project: Path, tmp_path: Path
) -> None:
    """`make changed` with the workflow's patterns on a real commit: the verdict expected, and the
    one GitHub's path filter gave on the same change set."""
    package = next((project / "src").iterdir()).name
    files = [c.format(package=package) for c in changed]
    patterns = changed_paths(project, workflow)
    assert paths_trigger(patterns, files) is runs
    assert make_changed(project, files, patterns, tmp_path) is runs


def test_make_changed_without_a_base_counts_everything(project: Path, tmp_path: Path) -> None:
    """On a push (no pull_request.base.sha) the push's own path filter has chosen: run."""
    output = tmp_path / "out"
    done = subprocess.run(
        ["make", "-s", "changed", "CHANGED_PATHS=terraform/**"],
        cwd=project,
        env=make_env(GITHUB_OUTPUT=str(output), BASE_SHA=""),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and output.read_text() == "run=true\n", done.stdout + done.stderr
    assert "no base commit" in done.stdout


def test_make_changed_fails_clearly(project: Path) -> None:
    for args, message in [
        (["CHANGED_PATHS="], "CHANGED_PATHS is empty"),
        (["BASE_SHA=no-such-commit", "CHANGED_PATHS=src/**"], "cannot diff against no-such-commit"),
    ]:
        done = subprocess.run(
            ["make", "-s", "changed", *args], cwd=project, env=make_env(), capture_output=True, text=True, timeout=60
        )
        assert done.returncode != 0 and message in done.stderr, done.stderr


def test_push_filters_stay(project: Path) -> None:
    """Pushes to main keep their path filters: they are not required checks."""
    terraform = workflow_triggers(project / ".github/workflows/terraform.yml")
    assert terraform["push"]["branches"] == ["main"]
    assert paths_trigger(terraform["push"]["paths"], ["terraform/aws/storage.tf"])
    assert not paths_trigger(terraform["push"]["paths"], ["params.yaml", "README.md"])
    promote = workflow_triggers(project / ".github/workflows/promote.yml")
    assert promote["push"]["paths"] == ["deploy/models.yaml"]


def test_fork_output_is_an_expression(project: Path) -> None:
    """Whether the PR comes from a fork is GitHub's answer, not a script's."""
    changes = load(project / ".github/workflows/pr-pipeline.yml")["jobs"]["changes"]
    assert changes["outputs"]["fork"] == "${{ github.event.pull_request.head.repo.full_name != github.repository }}"
