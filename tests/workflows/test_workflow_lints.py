"""The generated workflows, for every cloud, and the template's own CI: linted and hardened.

Lints: zizmor --offline (0 findings), check-jsonschema (vendor schemas), actionlint (inside a git
repository, as it wants), checkov --framework github_actions (0 failed). Every file in the
workflow folders is linted, whoever wrote it. The hardening rules of docs/workflows.md are then
checked on the parsed files, so that a new workflow cannot quietly drop one. The required checks
and the `changes` jobs that replaced the pull requests' path filters: test_required_checks.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from helpers.project import TEMPLATE, checkov_command, checkov_env, render
from helpers.workflows import (
    PINS,
    VERIFIED_BEYOND_SHARED,
    action_files,
    actionlint,
    jsonschema,
    load,
    paths_trigger,
    run,
    steps_of,
    workflow_files,
    workflow_triggers,
    zizmor,
)

CLOUDS = ("aws", "gcp", "azure")
SHARED_PINS = TEMPLATE.parent / "shared/actions-pins.md"
# Jobs that hold a cloud identity: those calling the auth action. Jobs that post on a PR: those
# running `cml`, directly or through a make target whose recipe runs it, or an action that comments.
CLOUD_AUTH = "./.github/actions/cloud-auth"
COMMENTING_ACTIONS = ("infracost/actions/diff@",)
VERDICT_LINE = re.compile(r'echo "[^"$`\\]*"(; exit 1)?')


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One render per cloud, each in a git repository (actionlint wants one)."""
    base = tmp_path_factory.mktemp("workflow-lints")
    rendered = {}
    for cloud in CLOUDS:
        project = render(base / cloud, cloud_provider=cloud)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, check=True)
        subprocess.run(["git", "add", "-A"], cwd=project, check=True)
        rendered[cloud] = project
    return rendered


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
        *checkov_command(),
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
    done = run(cmd, tmp_path, env=checkov_env())
    data = json.loads((tmp_path / "results_json.json").read_text())
    reports = data if isinstance(data, list) else [data]
    failed = [f"{c['check_id']} {c['file_path']}" for r in reports for c in r["results"]["failed_checks"]]
    passed = sum(r["summary"]["passed"] for r in reports)
    assert done.returncode == 0 and not failed, "\n".join(failed) + done.stderr[-2000:]
    assert passed > 0


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
            # A required check's verdict job (tests/workflows/test_required_checks.py) holds no
            # code: no permission, no action, each step one fixed `echo` line and maybe `exit 1`.
            verdict = permissions == {} and not any(uses)
            for step in steps:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, f"{where}: persist-credentials"
                if "run" in step:
                    assert "${{" not in str(step["run"]), f"{where}: expression inside run: ({step['run']!r})"
                    if verdict:
                        assert VERDICT_LINE.fullmatch(str(step["run"]).strip()), f"{where}: {step['run']!r}"
                        continue
                    for line in str(step["run"]).strip().splitlines():
                        command = line.split()
                        assert command[:1] == ["make"], f"{where}: `{line}` is not a make target"
                        assert set(command[1:]) <= targets, f"{where}: unknown target in `{line}`"


# The file of each cloud's CI identities (their `ci_trust` local).
CI_IDENTITIES = {"aws": "ci_roles.tf", "gcp": "ci_identities.tf", "azure": "ci_identities.tf"}


def oidc_subjects(job: dict, triggers: set[str]) -> set[str]:
    """The `sub` claims GitHub may give this job's OIDC token (repository prefix left out): the
    environment's when the job names one, else the event's (pull_request) or the branch's."""
    environment = job.get("environment")
    if environment:
        return {f"environment:{environment.get('name') if isinstance(environment, dict) else environment}"}
    condition = str(job.get("if", ""))
    events = {e for e in triggers if f"event_name == '{e}'" in condition} or triggers
    return {"pull_request" if e == "pull_request" else "ref:refs/heads/main" for e in events}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_each_cloud_job_runs_as_a_subject_its_identity_trusts(cloud: str, projects: dict[str, Path]) -> None:
    """Across the seam between the workflows and the Terraform: a job asking cloud-auth for an
    identity can only get it if the identity trusts the job's OIDC subject (else the cloud refuses
    at run time: AssumeRoleWithWebIdentity denied, AADSTS70021, getAccessToken denied). And each
    secret other than the workflow token is read only inside a dedicated environment."""
    project = projects[cloud]
    text = (project / f"terraform/{cloud}" / CI_IDENTITIES[cloud]).read_text()
    block = text.split("ci_trust = {", 1)[1].split("\n  }\n", 1)[0]
    trusted: dict[str, set[str]] = {}
    for identity, body in re.findall(r"^    (\w+) = \{\n(.*?)^    \}", block, re.MULTILINE | re.DOTALL):
        trusted[identity] = set(re.findall(r'"repo:\$\{local\.answers\.repository\}:([^"]+)"', body))
    assert trusted.keys() >= {"pr", "deploy"}, trusted
    used: dict[str, set[str]] = {}
    for path in workflow_files(project):
        workflow, triggers = load(path), set(workflow_triggers(path))
        for job_id, job in workflow["jobs"].items():
            where = f"{path.name}:{job_id}"
            for step in steps_of(job):
                if step.get("uses", "").startswith(CLOUD_AUTH):
                    identity = step["with"]["identity"]
                    subjects = oidc_subjects(job, triggers)
                    assert subjects <= trusted[identity], (
                        f"{where}: {identity} trusts {trusted[identity]}, not {subjects}"
                    )
                    used.setdefault(identity, set()).update(subjects)
            for secret in re.findall(r"secrets\.(\w+)", str(job)):
                assert secret == "GITHUB_TOKEN" or job.get("environment"), (
                    f"{where}: secret {secret} outside an environment"
                )
    # Nothing trusted that no job uses: each subject is a way in.
    assert used == trusted, f"trusted but unused: { {k: trusted[k] - used.get(k, set()) for k in trusted} }"


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
        if action in VERIFIED_BEYOND_SHARED:
            assert sha in VERIFIED_BEYOND_SHARED[action] and tag in VERIFIED_BEYOND_SHARED[action]
            continue
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
