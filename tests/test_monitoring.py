"""Drift monitoring and retraining PRs (the generated project's docs/monitoring.md), end to end.

One aws project is rendered and trained once against the session's real `mlflow server` (its
version made champion, its data and outputs pushed to the S3 emulator, dvc.lock committed on
main). Then:

- the whole loop on a laptop: `make monitor` on an undrifted batch (no drift, no retraining due),
  then on a drifted, labelled batch in `.dvc-storage/monitoring/` (drift), `make monitor-retrain`
  (a new data/raw/*.dvc and the PR body), `make pipeline`: a new version (the challenger: no alias
  moved) whose lineage tag `dvc.data.raw.md5` is the new data version; the champion untouched;
- a CONTRACT test of the retraining PR request (`make monitor-pr`): the fake `cml` of
  helpers/monitoring.py accepts only CML 0.20.6's documented command line and keeps GitHub's
  state as CML's `prCreate` would see it (an open PR per branch): title, branch, base, body,
  committed files, and one PR for two runs (dedup by branch name);
- `monitor.yml` run twice with act (workflow_dispatch) against the S3 emulator: batches read
  from `s3://<data bucket>/monitoring/`, the new data version pushed, one PR opened then found;
- `make schedule-check` warns from day 50 (GitHub disables schedules at 60).

The real CML and GitHub are out of reach here: the PR request is proven against CML's documented
interface, not against GitHub.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers.dr import backup_env
from helpers.monitoring import calls, drifted_batch, github_state, install_retrain_cml
from helpers.project import git_init, make, project_command_env, render
from helpers.storage import CLOUD_ENV_PREFIXES, GUARD_ENV, committed_remote, split_url
from helpers.workflows import git, run_act

pytestmark = pytest.mark.slow

MODEL = "monitored_model"
OWNER = "my-org"
RAW_DVC = "data/raw/breast_cancer.csv.dvc"
TITLE = f"Retrain {MODEL} on recent data"
BRANCH = f"retrain/{MODEL}"


def rest(uri: str, endpoint: str, **query: str) -> dict:
    url = f"{uri}/api/2.0/mlflow/{endpoint}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


def versions(uri: str) -> dict[int, dict]:
    found = rest(uri, "model-versions/search", filter=f"name='{MODEL}'").get("model_versions", [])
    return {int(v["version"]): v for v in found}


def champion(uri: str) -> str:
    return rest(uri, "registered-models/alias", name=MODEL, alias="champion")["model_version"]["version"]


def dvc_md5(path: Path) -> str:
    return str(yaml.safe_load(path.read_text())["outs"][0]["md5"])


@dataclass
class Trained:
    project: Path
    act_copy: Path
    venv: Path
    env: dict[str, str]
    uri: str
    bucket: str
    emulator: Any
    batch: str
    root: Path
    results: dict[str, Any] = field(default_factory=dict)

    def make(self, *targets: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
        return make(self.project, *targets, env={**self.env, **extra}, check=check)


@pytest.fixture(scope="module")
def trained(shared_env, mlflow_server: str, dvc_emulator_remote, storage_emulator, tmp_path_factory) -> Trained:
    """Trained once, champion v1, everything pushed to the S3 emulator, dvc.lock committed."""
    root = tmp_path_factory.mktemp("monitoring")
    project = render(root / "render", cloud_provider="aws", model_name=MODEL, project_name="Monitored")
    emulated = dvc_emulator_remote("aws", project)
    emulator = storage_emulator("aws")
    dvc_config = root / "dvc-global"
    dvc_config.mkdir()
    (dvc_config / "config").write_text(
        "['remote \"cloud\"']\n" + "".join(f'    {key} = "{value}"\n' for key, value in emulated.settings)
    )
    venv = shared_env("3.11")
    env = {k: v for k, v in project_command_env(venv).items() if not k.startswith(CLOUD_ENV_PREFIXES)}
    env.update(GUARD_ENV)
    env.update(emulated.env)
    env.update(backup_env(emulator))  # fsspec (the batches in s3://) reaches the emulator
    env.update(DVC_GLOBAL_CONFIG_DIR=str(dvc_config), MLFLOW_TRACKING_URI=mlflow_server)
    git_init(project)
    git(project, "remote", "add", "origin", f"https://github.com/{OWNER}/{project.name}.git")
    make(project, "pipeline", env=env)
    git(project, "add", "dvc.lock")
    git(project, "commit", "-q", "-m", "Train")
    git(project, "update-ref", "refs/remotes/origin/main", "HEAD")
    (version,) = versions(mlflow_server)
    subprocess.run(
        [
            str(venv / "bin/python"),
            "-c",
            "import sys; from mlflow import MlflowClient; "
            "MlflowClient(sys.argv[1]).set_registered_model_alias(sys.argv[2], 'champion', sys.argv[3])",
            mlflow_server,
            MODEL,
            str(version),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run([str(venv / "bin/dvc"), "push", "-q", "-r", "cloud"], cwd=project, env=env, check=True)
    bucket = split_url(committed_remote(project)["url"])[0]
    batch = drifted_batch(project / "data/raw/breast_cancer.csv", target="malignant", scale=1.5)
    # The act run's repository: main as trained, before the laptop loop changes the data.
    act_copy = root / "act-repo" / project.name
    shutil.copytree(project, act_copy, ignore=shutil.ignore_patterns("cache"))
    return Trained(project, act_copy, venv, env, mlflow_server, bucket, emulator, batch, root)


@pytest.fixture(scope="module")
def looped(trained: Trained) -> Trained:
    """The laptop loop: no drift, then drift, retraining data, pipeline."""
    project, out = trained.project, trained.root / "outputs"
    out.mkdir()
    # An undrifted batch (rows of the training data as they are), in its own folder.
    calm = trained.root / "calm"
    calm.mkdir()
    (calm / "batch.csv").write_text(drifted_batch(project / "data/raw/breast_cancer.csv", "malignant", scale=1.0))
    done = trained.make("monitor", MONITOR_BATCHES=str(calm), GITHUB_OUTPUT=str(out / "calm-output"))
    trained.results["calm"] = (done.stdout, (out / "calm-output").read_text())
    # The drifted one where a laptop's batches go: next to the local DVC remote folder.
    batches = project / ".dvc-storage/monitoring/2025-06-01"
    batches.mkdir(parents=True)
    (batches / "batch-001.csv").write_text(trained.batch)
    done = trained.make("monitor", GITHUB_OUTPUT=str(out / "output"))
    trained.results["monitor"] = (done.stdout, (out / "output").read_text())
    trained.make("monitor-summary", GITHUB_STEP_SUMMARY=str(out / "summary.md"))
    trained.results["before"] = dvc_md5(project / RAW_DVC)
    trained.results["retrain"] = trained.make("monitor-retrain").stdout
    trained.results["after"] = dvc_md5(project / RAW_DVC)
    trained.results["pipeline"] = trained.make("pipeline").stdout
    return trained


def test_the_whole_loop_on_a_laptop(looped: Trained) -> None:
    project, results, uri = looped.project, looped.results, looped.uri
    calm_line, calm_output = results["calm"]
    assert "monitor: no drift" in calm_line and "no retraining due" in calm_line, calm_line
    assert calm_output.splitlines() == ["drift=false", "retrain=false"]

    line, output = results["monitor"]
    assert "monitor: DRIFT in" in line and "mean_radius" in line, line
    assert output.splitlines() == ["drift=true", "retrain=true"]
    report = project / "reports/monitoring"
    summary = json.loads((report / "drift.json").read_text())
    assert summary["drift"] and summary["champion"]["version"] == "1"
    assert {"mean_radius", "mean_texture", "mean_perimeter", "mean_area", "mean_smoothness"} <= set(summary["drifted"])
    assert (report / "plots/mean_radius.png").stat().st_size > 1000
    drift_md = (report / "drift.md").read_text()
    assert drift_md.startswith(f"# Drift report: {MODEL} v1 (champion)")
    # The job summary is the report.
    assert (looped.root / "outputs/summary.md").read_text() == drift_md

    # The retraining change: a new raw data version, and the PR body with the report in it.
    assert results["after"] != results["before"], results["retrain"]
    assert "300 labelled rows of 300 appended to data/raw/breast_cancer.csv" in results["retrain"]
    body = (report / "retrain_pr.md").read_text()
    assert f"`{results['before']}` → `{results['after']}`" in body and "Drift report" in body
    assert "Nothing is promoted automatically" in body

    # `make pipeline` on it: a new version registered (the challenger: no alias moved) whose
    # lineage names the new data version; the champion is still v1.
    found = versions(uri)
    assert sorted(found) == [1, 2], results["pipeline"][-2000:]
    tags = {t["key"]: t["value"] for t in found[2].get("tags", [])}
    assert tags["dvc.data.raw.md5"] == results["after"]
    assert {t["key"]: t["value"] for t in found[1].get("tags", [])}["dvc.data.raw.md5"] == results["before"]
    assert not found[2].get("aliases")
    assert champion(uri) == "1"


def test_retraining_pr_request_contract_one_pr_per_model(looped: Trained) -> None:
    """CONTRACT test of `make monitor-pr` against CML 0.20.6's command line and its prCreate rule
    (an open PR on the branch is found, never duplicated). Run twice: one PR, one comment."""
    fake = install_retrain_cml(looped.root / "contract-bin")
    env = {
        "PATH": f"{fake}{os.pathsep}{looped.env['PATH']}",
        "REPO_TOKEN": "t",
        "GITHUB_REPOSITORY": f"{OWNER}/{looped.project.name}",
    }
    first = looped.make("monitor-pr", **env)
    second = looped.make("monitor-pr", **env)
    made = calls(fake)
    assert [c.get("error") for c in made] == [None] * 4, made
    assert [c["command"] for c in made] == ["pr create", "comment update"] * 2
    create = made[0]
    body = (looped.project / "reports/monitoring/retrain_pr.md").read_text()
    assert create["options"] == {
        "branch": BRANCH,
        "target-branch": "main",
        "title": TITLE,
        "body": body.rstrip("\n"),  # $(cat ...) drops the trailing newline
        "message": f"{TITLE}: a new version of the training data",
        "user-name": "github-actions[bot]",
        "user-email": "41898282+github-actions[bot]@users.noreply.github.com",
    }
    # Only the data version and the report are committed; `--message` keeps CML from adding
    # "[skip ci]" (its default without one), so the PR pipeline runs on the PR.
    assert create["paths"] == [RAW_DVC, "reports/monitoring/drift.md"]
    assert "skip-ci" not in create["options"]
    committed = Path(create["committed"])
    assert dvc_md5(committed / RAW_DVC) == looped.results["after"]
    # The second run found the first PR by its branch name: the same PR, its comment updated.
    assert (create["existing"], made[2]["existing"]) == (False, True)
    assert made[2]["options"] == create["options"] and made[0]["number"] == made[2]["number"] == 1
    for comment in (made[1], made[3]):
        assert comment["options"] == {"target": "pr/1", "watermark-title": "Drift report"}
        assert comment["paths"] == ["reports/monitoring/drift.md"]
    assert made[3]["updated"] is True
    state = github_state(fake)
    assert list(state["prs"]) == [BRANCH] and state["prs"][BRANCH]["base"] == "main"
    assert f"https://github.com/{OWNER}/{looped.project.name}/pull/1" in first.stdout + second.stdout


def test_the_fake_refuses_what_cml_refuses(tmp_path: Path) -> None:
    fake = install_retrain_cml(tmp_path / "bin")
    (tmp_path / "f.md").write_text("x")
    env = {**os.environ, "REPO_TOKEN": "t"}
    for args, message in [
        (["pr", "create", "--branch=b", "--bogus=1", "f.md"], "unknown option --bogus"),
        (["pr", "create", "--branch=b", "--merge", "--squash", "f.md"], "conflicts"),
        (["pr", "create", "--branch=b", "missing.md"], "no such file to commit"),
        (["pr", "create", "f.md"], "no --branch"),
        (["comment", "update", "--target=pr/9", "f.md"], "is not an open pull request"),
        (["pr", "open", "f.md"], "unknown command"),
    ]:
        done = subprocess.run([str(fake / "cml"), *args], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
    done = subprocess.run(
        [str(fake / "cml"), "pr", "create", "--branch=b", "f.md"],
        cwd=tmp_path,
        env={k: v for k, v in env.items() if k != "REPO_TOKEN"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "no token" in done.stderr


def test_monitor_workflow_with_act_opens_one_pr_for_two_runs(trained: Trained) -> None:
    """monitor.yml, workflow_dispatch on main, twice: batches from the S3 emulator, drift, the new
    data version pushed, the retraining PR opened, then found again (no second PR)."""
    project = trained.act_copy
    trained.emulator.client().put_object(
        Bucket=trained.bucket, Key="monitoring/2025-06-01/batch-001.csv", Body=trained.batch.encode()
    )
    fake = install_retrain_cml(trained.root / "act-bin")
    env = {**trained.env, "PATH": os.pathsep.join([str(fake), trained.env["PATH"], str(Path(sys.executable).parent)])}
    env.pop("MLFLOW_TRACKING_URI")
    passed = ("UV_PROJECT_ENVIRONMENT", "UV_NO_SYNC", "MYPY_CACHE_DIR", "DVC_GLOBAL_CONFIG_DIR", *GUARD_ENV)
    act_env = {k: env[k] for k in passed} | backup_env(trained.emulator)
    variables = {"MLFLOW_TRACKING_URI": trained.uri, "MONITOR_URL": f"s3://{trained.bucket}/monitoring"}
    repo = f"{OWNER}/{project.name}"
    event = {"ref": "refs/heads/main", "inputs": {}, "repository": {"full_name": repo, "default_branch": "main"}}
    runs = [
        run_act(
            project,
            "monitor.yml",
            "monitor",
            event,
            trained.root / f"act-{n}",
            env,
            variables=variables,
            act_env=act_env,
            event_name="workflow_dispatch",
        )
        for n in (1, 2)
    ]
    for run in runs:
        assert run.returncode == 0 and "Job succeeded" in run.output, run.output[-6000:]
        for step in (
            "Warn before GitHub disables the schedules (60 days without activity)",
            "Pull the training data",
            "Drift of the recent batches against the training data",
            "Drift report in the job summary",
            "Append the labelled batches to the training data (a new DVC version)",
            "Push the new data version",
            "Open the retraining PR, or update the open one (never a second)",
        ):
            assert f"Success - Main {step}" in run.output, f"{step!r} did not run:\n{run.output[-4000:]}"
        for guarded in ("Set up uv and Python (cached)", "Cloud credentials (OIDC)", "Install CML"):
            assert f"Main {guarded}" not in run.output, guarded
        assert "Main Convert SageMaker data capture" not in run.output  # MONITOR_CAPTURE_URL unset
        assert "monitor: DRIFT in" in run.output and "schedule-check: the last commit is 0 days old" in run.output
        print(f"act monitor.yml: {run.seconds:.1f} s")

    made = calls(fake)
    assert [c.get("error") for c in made] == [None] * 4, made
    assert [(c["command"], c.get("existing")) for c in made] == [
        ("pr create", False),
        ("comment update", None),
        ("pr create", True),
        ("comment update", None),
    ]
    assert made[0]["options"]["branch"] == made[2]["options"]["branch"] == BRANCH
    assert made[0]["options"]["title"] == TITLE and "Retrain" in made[0]["options"]["body"]
    assert "Drift report" in made[0]["options"]["body"]
    assert list(github_state(fake)["prs"]) == [BRANCH]
    # The committed data version is in the bucket (make push), and nothing was promoted.
    new_md5 = dvc_md5(Path(made[0]["committed"]) / RAW_DVC)
    assert new_md5 != dvc_md5(project / RAW_DVC)
    objects = trained.emulator.list_objects(trained.bucket, "dvc/files/md5/")
    assert f"dvc/files/md5/{new_md5[:2]}/{new_md5[2:]}" in objects
    assert champion(trained.uri) == "1"


def test_schedule_check_warns_before_github_disables_schedules(trained: Trained, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(trained.project), str(clone)], check=True)
    fresh = make(clone, "schedule-check", env=trained.env)
    assert "schedule-check: the last commit is 0 days old" in fresh.stdout and "::warning" not in fresh.stdout
    old = "2000-01-01T00:00:00Z"
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "old"],
        cwd=clone,
        env={**os.environ, "GIT_AUTHOR_DATE": old, "GIT_COMMITTER_DATE": old},
        check=True,
    )
    summary = tmp_path / "summary.md"
    stale = make(clone, "schedule-check", env={**trained.env, "GITHUB_STEP_SUMMARY": str(summary)})
    assert stale.stdout.startswith("::warning title=Scheduled workflows stop at 60 days::the last commit is ")
    assert "after 60 days without activity" in stale.stdout and "Warning:" in summary.read_text()
