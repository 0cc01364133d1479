"""The generated workflows, for every cloud, and the template's own CI: linted and hardened.

Lints: zizmor --offline (0 findings), check-jsonschema (vendor schemas), actionlint (inside a git
repository, as it wants), checkov --framework github_actions (0 failed). Every file in the
workflow folders is linted, whoever wrote it. The hardening rules of docs/workflows.md are then
checked on the parsed files, so that a new workflow cannot quietly drop one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_workflows import TEMPLATE, paths_trigger, template_conftest, workflow_triggers

CLOUDS = ("aws", "gcp", "azure")
VENV = TEMPLATE / ".venv/bin"
CHECKOV = ["tool", "run", "--from", "checkov==3.3.30", "checkov"]
CHECKOV_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "BC_API_KEY": "",
    "ANONYMIZE_TELEMETRY": "true",
    "NO_COLOR": "1",
}
# Release tag -> commit, as read from each action's repository (../shared/actions-pins.md).
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "actions/github-script": ("ed597411d8f924073f98dfc5c65a23a2325f34cd", "v8.0.0"),
    "astral-sh/setup-uv": ("20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1"),
    "hashicorp/setup-terraform": ("dfe3c3f87815947d99a8997f908cb6525fc44e9e", "v4.0.1"),
    "terraform-linters/setup-tflint": ("6e1e0642c0289bd619021bf6b34e3c08ed1e005a", "v6.3.0"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "google-github-actions/auth": ("7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
    "google-github-actions/setup-gcloud": ("aa5489c8933f4cc7a4f7d45035b3b1440c9c10db", "v3.0.1"),
    "azure/login": ("f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1"),
    "infracost/actions/diff": ("fb736a8f219195d6efdca58682069b16fe1bc280", "v4.2.0"),
    "infracost/actions/scan": ("fb736a8f219195d6efdca58682069b16fe1bc280", "v4.2.0"),
    "peter-evans/create-pull-request": ("5f6978faf089d4d20b00c7766989d076bb2fc7f1", "v8.1.1"),
    "re-actors/alls-green": ("05ac9388f0aebcb5727afa17fcccfecd6f8ec5fe", "v1.2.2"),
}
SHARED_PINS = TEMPLATE.parent / "shared/actions-pins.md"
# Jobs that hold a cloud identity: those calling the auth action. Jobs that post on a PR: those
# running `cml`, directly or through a make target whose recipe runs it, or an action that comments.
CLOUD_AUTH = "./.github/actions/cloud-auth"
COMMENTING_ACTIONS = ("infracost/actions/diff@",)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One render per cloud, each in a git repository (actionlint wants one)."""
    conftest = template_conftest()
    base = tmp_path_factory.mktemp("workflow-lints")
    rendered = {}
    for cloud in CLOUDS:
        project = conftest.render(base / cloud, cloud_provider=cloud)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, check=True)
        subprocess.run(["git", "add", "-A"], cwd=project, check=True)
        rendered[cloud] = project
    return rendered


def workflow_files(root: Path) -> list[Path]:
    return sorted((root / ".github/workflows").glob("*.y*ml"))


def action_files(root: Path) -> list[Path]:
    return sorted((root / ".github/actions").glob("*/action.y*ml"))


def run(cmd: list[str], cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)


def zizmor(root: Path) -> None:
    done = run([str(VENV / "zizmor"), "--offline", "--no-progress", "--format", "json", ".github"], root)
    findings = json.loads(done.stdout or "[]")
    assert done.returncode == 0 and findings == [], done.stdout[-4000:] + done.stderr[-2000:]


def actionlint(root: Path) -> None:
    done = run([str(VENV / "actionlint"), "-no-color"], root)
    assert done.returncode == 0, done.stdout + done.stderr


def jsonschema(root: Path) -> None:
    checks = [("vendor.github-workflows", workflow_files(root)), ("vendor.github-actions", action_files(root))]
    if (root / ".github/dependabot.yml").exists():
        checks.append(("vendor.dependabot", [root / ".github/dependabot.yml"]))
    for schema, files in checks:
        if files:
            done = run([str(VENV / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)], root)
            assert done.returncode == 0, f"{schema}: {done.stdout}{done.stderr}"


# --- the generated project, every cloud -------------------------------------------------------


@pytest.mark.parametrize("cloud", CLOUDS)
def test_zizmor_offline_finds_nothing(cloud: str, projects: dict[str, Path]) -> None:
    zizmor(projects[cloud])


@pytest.mark.parametrize("cloud", CLOUDS)
def test_json_schemas(cloud: str, projects: dict[str, Path]) -> None:
    jsonschema(projects[cloud])


@pytest.mark.parametrize("cloud", CLOUDS)
def test_actionlint(cloud: str, projects: dict[str, Path]) -> None:
    actionlint(projects[cloud])


@pytest.mark.slow
def test_checkov_github_actions_no_failed_check(projects: dict[str, Path], tmp_path: Path) -> None:
    """One checkov run over every render and the template's own CI (checkov starts slowly)."""
    roots = [projects[c] / ".github" for c in CLOUDS] + [TEMPLATE / ".github"]
    cmd = [
        template_conftest().uv(),
        *CHECKOV,
        "--framework",
        "github_actions",
        "--skip-download",
        "--quiet",
        "-o",
        "json",
        "--output-file-path",
        str(tmp_path),
    ]
    for root in roots:
        cmd += ["-d", str(root)]
    done = run(cmd, tmp_path, env={**os.environ, **CHECKOV_ENV})
    data = json.loads((tmp_path / "results_json.json").read_text())
    reports = data if isinstance(data, list) else [data]
    failed = [f"{c['check_id']} {c['file_path']}" for r in reports for c in r["results"]["failed_checks"]]
    passed = sum(r["summary"]["passed"] for r in reports)
    assert done.returncode == 0 and not failed, "\n".join(failed) + done.stderr[-2000:]
    assert passed > 0


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def steps_of(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


@pytest.mark.parametrize("cloud", CLOUDS)
def test_hardening_rules(cloud: str, projects: dict[str, Path]) -> None:
    project = projects[cloud]
    makefile = (project / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    recipes = dict(re.findall(r"^([a-z][a-z-]*):[^\n]*\n((?:\t[^\n]*\n)*)", makefile, re.MULTILINE))
    posting = {name for name, recipe in recipes.items() if re.search(r"^\tcml ", recipe, re.MULTILINE)}
    opening = {name for name, recipe in recipes.items() if "cml pr create" in recipe}
    for path in workflow_files(project):
        text, workflow = path.read_text(), load(path)
        name = path.name
        assert "pull_request_target" not in text, name
        assert workflow.get("permissions") == {}, f"{name}: `permissions: {{}}` at workflow level"
        for job_id, job in workflow["jobs"].items():
            where = f"{name}:{job_id}"
            assert "timeout-minutes" in job, f"{where}: timeout-minutes"
            assert "concurrency" in job or "concurrency" in workflow, f"{where}: concurrency"
            permissions = job.get("permissions")
            assert isinstance(permissions, dict), f"{where}: explicit job permissions"
            steps = steps_of(job)
            uses = [s.get("uses", "") for s in steps]
            runs = [str(s.get("run", "")) for s in steps]
            authenticates = any(u.startswith(CLOUD_AUTH) for u in uses)
            comments = any(re.search(r"(^|\s)cml ", r) or set(r.split()[1:]) & posting for r in runs if r.strip())
            comments = comments or any(u.startswith(COMMENTING_ACTIONS) for u in uses)
            assert (permissions.get("id-token") == "write") == authenticates, f"{where}: id-token only with cloud auth"
            assert (permissions.get("pull-requests") == "write") == comments, f"{where}: pull-requests only to comment"
            # A job that opens a PR (cml pr create, directly or in a recipe) pushes a branch first.
            opens_pr = any("cml pr create" in r or set(r.split()[1:]) & opening for r in runs)
            assert permissions.get("contents") in ("read", None) or opens_pr, f"{where}: contents: read"
            writes = {k for k, v in permissions.items() if v == "write"} - {"id-token", "pull-requests", "contents"}
            assert not writes, f"{where}: unexpected write permissions {writes}"
            if authenticates or comments:
                condition = str(job.get("if", ""))
                same_repo = "head.repo.full_name == github.repository" in condition
                push_only = any(f"event_name == '{e}'" in condition for e in ("push", "workflow_dispatch"))
                no_pr = "pull_request" not in str(workflow_triggers(path))
                assert same_repo or push_only or no_pr, f"{where}: forks must not get credentials"
            for step in steps:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, f"{where}: persist-credentials"
                if "run" in step:
                    assert "${{" not in str(step["run"]), f"{where}: expression inside run: ({step['run']!r})"
                    for line in str(step["run"]).strip().splitlines():
                        command = line.split()
                        assert command[:1] == ["make"], f"{where}: `{line}` is not a make target"
                        assert set(command[1:]) <= targets, f"{where}: unknown target in `{line}`"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_action_is_pinned_to_a_known_commit(cloud: str, projects: dict[str, Path]) -> None:
    project = projects[cloud]
    for path in workflow_files(project) + action_files(project):
        for line in path.read_text().splitlines():
            match = re.match(r"\s*(?:-\s+)?uses:\s*(\S+)(.*)", line)
            if not match or match.group(1).startswith("./"):
                continue
            action, _, ref = match.group(1).partition("@")
            assert action in PINS, f"{path.name}: {action} is not in the pin list"
            sha, tag = PINS[action]
            assert ref == sha, f"{path.name}: {action}@{ref} is not pinned to {sha}"
            assert f"# {tag}" in match.group(2), f"{path.name}: {action} needs the comment `# {tag}`"


def test_pins_match_the_shared_pin_list() -> None:
    if not SHARED_PINS.exists():
        pytest.skip("../shared/actions-pins.md is not beside this checkout")
    text = SHARED_PINS.read_text().lower()  # owners are case-insensitive (Azure/login)
    for action, (sha, tag) in PINS.items():
        row = next(
            (
                line
                for line in text.splitlines()
                if line.startswith(f"| {action.split('/')[0]}/") and f"`{sha}`" in line
            ),
            None,
        )
        assert row and tag in row, f"{action}@{sha} ({tag}) is not in {SHARED_PINS}"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_cloud_differences_live_in_the_auth_action(cloud: str, projects: dict[str, Path]) -> None:
    """Workflows are the same text on every cloud but for their names; the action differs."""
    others = [c for c in CLOUDS if c != cloud]
    for path in workflow_files(projects[cloud]):
        body = [line for line in path.read_text().splitlines() if not line.startswith(("#", "name:"))]
        for other in others:
            peer = projects[other] / ".github/workflows" / path.name
            peer_body = [line for line in peer.read_text().splitlines() if not line.startswith(("#", "name:"))]
            assert body == peer_body, f"{path.name} differs between {cloud} and {other}"
    action = (projects[cloud] / ".github/actions/cloud-auth/action.yml").read_text()
    expected = {
        "aws": "aws-actions/configure-aws-credentials",
        "gcp": "google-github-actions/auth",
        "azure": "azure/login",
    }
    assert expected[cloud] in action
    assert not any(expected[o] in action for o in others)
    names = {
        "aws": ["AWS_PR_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN"],
        "gcp": ["GCP_WORKLOAD_IDENTITY_PROVIDER", "GCP_SERVICE_ACCOUNT"],
        "azure": ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID"],
    }[cloud]
    for name in names:
        assert f"fromJSON(inputs.variables).{name}" in action, name


@pytest.mark.parametrize(
    ("changed", "runs"),
    [
        (["README.md", "docs/architecture.md"], False),
        (["docs/workflows.md"], False),
        ([".github/CODEOWNERS", "LICENSE"], False),
        (["params.yaml"], True),
        (["src/{package}/train.py"], True),
        (["data/raw/breast_cancer.csv.dvc"], True),
        (["dvc.lock", "README.md"], True),
        (["src/{package}/metrics.py"], True),
        (["pyproject.toml", "uv.lock"], False),  # a pin bump of mlops-gitops: checks and tests only
    ],
)
def test_pr_pipeline_runs_only_for_changes_to_the_model(
    changed: list[str], runs: bool, projects: dict[str, Path]
) -> None:
    """GitHub evaluates `paths`; act does not (it runs any job it is asked to), so the filter is
    evaluated here, deterministically, on the change sets of a docs-only PR and of model PRs."""
    project = projects["aws"]
    package = next((project / "src").iterdir()).name
    trigger = workflow_triggers(project / ".github/workflows/pr-pipeline.yml")["pull_request"]
    files = [c.format(package=package) for c in changed]
    assert paths_trigger(trigger["paths"], files) is runs
    for path in files:
        if runs and not path.endswith(".md"):
            assert (project / path).exists() or path == "dvc.lock", f"{path}: a path that exists"


def test_terraform_workflow_runs_for_infrastructure_changes_only(projects: dict[str, Path]) -> None:
    triggers = workflow_triggers(projects["aws"] / ".github/workflows/terraform.yml")
    assert paths_trigger(triggers["pull_request"]["paths"], ["terraform/aws/storage.tf"])
    assert not paths_trigger(triggers["pull_request"]["paths"], ["params.yaml", "README.md"])
    assert triggers["push"]["branches"] == ["main"]


def test_path_filter_matcher_follows_github_semantics() -> None:
    assert paths_trigger(["src/**"], ["src/a/b.py"])
    assert not paths_trigger(["*.md"], ["docs/a.md"])
    assert paths_trigger(["**.md"], ["docs/a.md"])
    assert paths_trigger(["data/**/*.dvc"], ["data/x.dvc"])
    assert not paths_trigger(["src/**", "!src/**/*.md"], ["src/readme.md"])
    with pytest.raises(ValueError):
        paths_trigger(["src/?.py"], ["src/a.py"])


def test_dependabot_covers_actions_python_and_terraform(projects: dict[str, Path]) -> None:
    for cloud, project in projects.items():
        config = load(project / ".github/dependabot.yml")
        ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
        assert {"github-actions", "uv", "terraform"} <= set(ecosystems)
        assert "/.github/actions/*" in ecosystems["github-actions"]["directories"]
        assert ecosystems["terraform"]["directory"] == f"/terraform/{cloud}"


# --- the template's own CI ----------------------------------------------------------------------


def test_template_ci_lints_clean(tmp_path: Path) -> None:
    """The template's .github/ passes the same lints (actionlint in a copy inside a git repo)."""
    zizmor(TEMPLATE)
    jsonschema(TEMPLATE)
    copy = tmp_path / "repo"
    (copy / ".github").mkdir(parents=True)
    subprocess.run(["cp", "-r", str(TEMPLATE / ".github/workflows"), str(copy / ".github/")], check=True)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    actionlint(copy)


def test_template_ci_calls_make_test() -> None:
    ci = load(TEMPLATE / ".github/workflows/ci.yml")
    runs = [str(s.get("run", "")) for job in ci["jobs"].values() for s in steps_of(job)]
    assert "make test" in runs and "make lint" in runs
    assert ci["permissions"] == {}
