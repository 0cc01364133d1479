"""The GitHub journey of an AWS project, as GitHub runs it, once per merge method.

A local bare repository stands for GitHub (tests/helpers/github.py: PRs, merges by button, the
events, a contract fake of `gh api` for the evidence step); moto with IAM enforcement stands for
the account and the MLflow gate in front of the session's real `mlflow server` for the SageMaker
tracking server (tests/helpers/permissions.py): every job runs as the identity its workflow
assumes, with the policy rendered from the project's Terraform, and nothing else.

Per method (merge commit, squash, rebase), in one repository and registry:
  1. a feature branch retunes the forest; act runs the PR pipeline on its `pull_request` event as
     the PR identity: data pulled, pipeline reproduced, the candidate registered (no alias), the
     report posted (CML contract fake), the outputs pushed;
  2. the PR is merged by that method and main is pushed (the first run also runs the Checks
     workflow on that push);
  3. the Promotion workflow's manual dispatch (`version: candidate`) runs as the PR identity and
     proposes production -> the CI-trained version (the file `cml pr create` would commit);
  4. that promotion PR gets its plan (`promotion` check, PR identity), is merged by the same
     method, and the push runs `apply` as the deploy identity with the evidence from the API;
  5. the champion is the version the PR pipeline trained, with the promotion PR and approver;
     the same `apply` run deployed it to staging then production (docs/deploy.md): under act
     nothing is applied (SERVING_APPLY_COMMAND=true) but each environment's generated
     release.auto.tfvars.json names the version and its image tag, and the smoke test ran
     against a real MLflow scoring server of the first trained version (SMOKE_URL).
Then a revert of the last promotion's production line (staging keeps the newer version), merged
and applied, rolls the champion back and redeploys production with the older version.
Only GitHub's own steps are not run: the environment approval (act has none) and the comment
and PR creation (CML's contract fake, tests/promotion/fake_bin/cml).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers.github import (
    LocalGitHub,
    PullRequest,
    dispatch_payload,
    git,
    install_fake_gh,
    pull_request_payload,
    push_payload,
)
from helpers.mlflow_server import free_port, wait_until_up
from helpers.permissions import AwsCiHarness
from helpers.project import git_init, render
from helpers.storage import GUARD_ENV
from helpers.workflows import ActRun, run_act

pytestmark = pytest.mark.slow
OWNER = "my-org"
MODEL = "journey_model"
FAKE_CML = Path(__file__).parents[1] / "promotion/fake_bin"
# Each run retunes the forest a little (the gate's tolerance against the champion is 0.01).
TREES = {"merge": 210, "squash": 220, "rebase": 230}


@dataclass
class Journey:
    work: Path
    github: LocalGitHub
    harness: AwsCiHarness
    env: dict[str, str]
    cml_log: Path
    cml_files: Path
    acts: Path
    timings: list[tuple[str, float]] = field(default_factory=list)
    promoted: list[str] = field(default_factory=list)
    last_promotion: PullRequest | None = None
    smoke_url: str | None = None
    server: subprocess.Popen | None = None

    def act(self, label: str, workflow: str, job: str, event_name: str, payload: dict, identity: str | None) -> ActRun:
        """`job` of `workflow` on `payload`, with the credentials and tracking gate of `identity`
        (what its cloud-auth step would give it), or with no cloud access at all (None)."""
        env = dict(self.env)
        variables = {"MLFLOW_ARTIFACT_LOCATION": self.env["MLFLOW_ARTIFACT_LOCATION"]}
        if identity is not None:
            chosen = self.harness.env(identity)
            env.update({k: v for k, v in chosen.items() if k.startswith("AWS_")})
            variables["MLFLOW_TRACKING_URI"] = chosen["MLFLOW_TRACKING_URI"]
        # Jobs read the tracking server and artifact location from the repository variables only.
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_ARTIFACT_LOCATION"):
            env.pop(name, None)
        passed = [k for k in env if k.startswith(("AWS_", "UV_", "MLFLOW_S3", "CML_CONTRACT"))]
        passed += ["MYPY_CACHE_DIR", "DVC_GLOBAL_CONFIG_DIR", *GUARD_ENV]
        if self.smoke_url:  # the deploy steps' smoke test (nothing is applied under act)
            env["SMOKE_URL"] = self.smoke_url
            passed.append("SMOKE_URL")
        self.harness.ledger.step = f"{workflow}/{job} ({label})"
        run = run_act(
            self.work,
            workflow,
            job,
            payload,
            self.acts / f"{len(self.timings):02d}-{job}",
            env,
            variables=variables,
            act_env={k: env[k] for k in dict.fromkeys(passed) if k in env},
            event_name=event_name,
            timeout=900,
        )
        self.harness.ledger.step = "between steps"
        self.timings.append((label, run.seconds))
        assert run.returncode == 0 and "Job succeeded" in run.output, run.output[-6000:]
        return run

    def registry(self, endpoint: str, **query: str) -> dict:
        url = f"{self.harness.mlflow_url}/api/2.0/mlflow/{endpoint}?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(url, timeout=30) as answer:
            return json.loads(answer.read())

    def versions(self) -> list[dict]:
        found = self.registry("model-versions/search", filter=f"name='{MODEL}'", max_results="1000")
        return sorted(found.get("model_versions", []), key=lambda v: int(v["version"]))

    def aliases(self) -> dict[str, str]:
        found = self.registry("registered-models/get", name=MODEL)["registered_model"]
        return {a["alias"]: str(a["version"]) for a in found.get("aliases", [])}

    def version_tags(self, version: str) -> dict[str, str]:
        found = self.registry("model-versions/get", name=MODEL, version=version)["model_version"]
        return {t["key"]: t["value"] for t in found.get("tags", [])}

    def proposed_file(self) -> Path:
        calls = [json.loads(line) for line in self.cml_log.read_text().splitlines()]
        created = [c for c in calls if c["command"] == ["pr", "create"]]
        assert created, calls
        return Path(created[-1]["saved"]) / "deploy/models.yaml"

    def apply_promotion(self, label: str, pull: PullRequest, method: str, approver: str) -> ActRun:
        """Merge a promotion PR; the push runs `apply` as the deploy identity."""
        before = git(self.work, "rev-parse", "origin/main")
        after = self.github.merge(self.work, pull, method, [approver])
        return self.act(label, "promote.yml", "apply", "push", push_payload(self.github, before, after), "deploy")

    def start_smoke_server(self, version: str) -> None:
        """A real MLflow scoring server of `version` (`make serve`, as the platform engineer): the
        target of the deploy steps' smoke test under act, where no cloud endpoint exists."""
        if self.server is not None:
            return
        port = free_port()
        env = {**self.harness.admin_env(), "MLFLOW_TRACKING_URI": self.harness.mlflow_url}
        log = self.acts.parent / "smoke-server.log"
        with log.open("w") as out:
            self.server = subprocess.Popen(
                ["make", "--no-print-directory", "serve", f"SERVE_PORT={port}", f"VERSION={version}"],
                cwd=self.work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_until_up(f"http://127.0.0.1:{port}/ping", self.server, log, seconds=180)
        self.smoke_url = f"http://127.0.0.1:{port}"

    def stop_smoke_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)


# `make deploy` prints the configuration each environment ends on (terraform/aws/serving/...).
DEPLOYED = re.compile(r"deploy: (staging|production) ends on \S+release\.auto\.tfvars\.json: (.*)$")


def deployed_releases(run: ActRun) -> dict[str, dict | None]:
    found = {}
    for line in run.output.splitlines():
        match = DEPLOYED.search(line)
        if match:
            found[match.group(1)] = json.loads(match.group(2))["release"]
    return found


def assert_serves(j: Journey, run: ActRun, version: str, envs: tuple[str, ...] = ("staging", "production")) -> None:
    """The generated release of each of `envs` names `version` at 100%, with the image tag of the
    commit that trained it, and its smoke tests passed (staging first: production requires it)."""
    assert "Success - Main staging: deploy" in run.output and "Success - Main production: deploy" in run.output
    commit = j.version_tags(version)["git.commit"]
    releases = deployed_releases(run)
    assert set(releases) == set(envs), run.output[-4000:]
    for env, release in releases.items():
        assert release is not None, env
        assert (release["environment"], release["model"], release["version"]) == (env, MODEL, version)
        assert release["image_tag"] == f"v{version}-{commit[:7]}"
        assert release["step"] == "full"
        assert release["traffic"][0] == {"version": version, "image_tag": release["image_tag"], "percent": 100}
        assert sum(t["percent"] for t in release["traffic"]) == 100
    tags = j.version_tags(version)
    for env in envs:
        assert tags[f"deploy.{env}.smoke"] == "passed" and tags[f"deploy.{env}.state"] == "live", tags


@pytest.fixture(scope="module")
def journey(shared_env, mlflow_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    root = tmp_path_factory.mktemp("journey")
    work = render(root / "render", cloud_provider="aws", model_name=MODEL, project_name="Journey")
    git_init(work)
    repository = f"{OWNER}/{work.name}"
    github = LocalGitHub(root, repository)
    github.connect(work)

    venv = shared_env("3.11")
    (root / "aws").mkdir()
    harness = AwsCiHarness(work, root / "aws", venv, mlflow_server)
    bin_dir = root / "bin"
    install_fake_gh(bin_dir, github)
    env = {
        **harness.base_env,
        "PATH": os.pathsep.join(
            [str(bin_dir), str(FAKE_CML), harness.base_env["PATH"], str(Path(sys.executable).parent)]
        ),
        "CML_CONTRACT_LOG": str(root / "cml.jsonl"),
        "CML_CONTRACT_FILES": str(root / "cml-files"),
        "GITHUB_REPOSITORY": repository,
    }
    (root / "cml.jsonl").write_text("")
    # Bootstrap, as docs/cloud/aws.md says: a person (not a CI identity) puts the raw data in the bucket.
    dvc = str(venv / "bin/dvc")
    subprocess.run([dvc, "commit", "-f", "-q", "data/raw/breast_cancer.csv.dvc"], cwd=work, env=env, check=True)
    done = subprocess.run(["make", "-s", "push"], cwd=work, env=harness.admin_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    made = Journey(work, github, harness, env, root / "cml.jsonl", root / "cml-files", root / "act")
    try:
        yield made
    finally:
        print("\njourney timings:\n" + "\n".join(f"  {label:<48} {seconds:6.1f} s" for label, seconds in made.timings))
        for identity in ("pr", "deploy"):
            print(harness.ledger.report(identity))
        made.stop_smoke_server()
        harness.stop()


@pytest.mark.parametrize("method", list(TREES))
def test_a_model_trained_on_a_pull_request_is_promoted_after_merge(journey: Journey, method: str) -> None:
    j, work = journey, journey.work
    started = time.monotonic()

    # 1. The feature branch and its PR pipeline, as the PR identity.
    branch = f"tune-{method}"
    git(work, "checkout", "-q", "-B", branch, "origin/main")
    params = work / "params.yaml"
    params.write_text(re.sub(r"n_estimators: \d+", f"n_estimators: {TREES[method]}", params.read_text(), count=1))
    git(work, "commit", "-qam", f"{TREES[method]} trees")
    (work / "README.md").write_text((work / "README.md").read_text() + f"\nTuned with {TREES[method]} trees.\n")
    git(work, "commit", "-qam", "Note the tuning")  # two commits: squash and rebase differ from a merge
    pull = j.github.open(work, branch)
    before = {v["version"] for v in j.versions()}
    run = j.act(
        f"{method}: PR pipeline",
        "pr-pipeline.yml",
        "pipeline",
        "pull_request",
        pull_request_payload(j.github, pull),
        "pr",
    )
    assert "Success - Main Reproduce the pipeline and register the candidate" in run.output
    assert "Success - Main Push the new data and outputs" in run.output
    new = [v for v in j.versions() if v["version"] not in before]
    assert len(new) == 1, new
    trained = new[0]["version"]
    tags = j.version_tags(trained)
    assert tags["ci.pr_number"] == str(pull.number) and tags["git.branch"] == branch
    assert not new[0].get("aliases")
    assert "sagemaker-mlflow:CreateModelVersion" in j.harness.ledger.actions("pr")
    assert not j.harness.ledger.denied("pr"), j.harness.ledger.report("pr")

    # 2. Merged by this method; main is pushed.
    before_main = git(work, "rev-parse", "origin/main")
    merged = j.github.merge(work, pull, method, ["alice"])
    assert merged != pull.head
    if method == "merge":
        j.act("main: Checks on push", "checks.yml", "checks", "push", push_payload(j.github, before_main, merged), None)

    # 3. The manual dispatch proposes the CI-trained version for production.
    j.act(
        f"{method}: propose (dispatch)",
        "promote.yml",
        "propose",
        "workflow_dispatch",
        dispatch_payload(j.github, {"environment": "production", "version": "candidate"}),
        "pr",
    )
    proposed = j.proposed_file().read_text()
    assert f"version: {trained}" in proposed.split("production:", 1)[1].splitlines()[1], proposed
    # Production takes only a version staging has smoke-tested: the PR promotes both (staging is
    # deployed first in the same run).
    proposed = re.sub(r"(staging:\n\s+version:) \S+", rf"\1 {trained}", proposed, count=1)
    j.start_smoke_server(trained)

    # 4. The promotion PR: plan as the PR identity, merged, applied as the deploy identity.
    promotion = f"promote-production-{method}"
    git(work, "checkout", "-q", "-B", promotion, "origin/main")
    (work / "deploy/models.yaml").write_text(proposed)
    git(work, "commit", "-qam", f"Promote production: v{trained}")
    promo = j.github.open(work, promotion)
    run = j.act(
        f"{method}: promotion plan",
        "promote.yml",
        "promotion",
        "pull_request",
        pull_request_payload(j.github, promo),
        "pr",
    )
    assert "Success - Main Plan the promotion (writes reports/promotion_plan.md)" in run.output
    applied = j.apply_promotion(f"{method}: apply (deploy identity)", promo, method, "carol")

    # 5. The champion is the version the PR pipeline trained, with its evidence.
    assert j.aliases()["champion"] == trained
    evidence = j.version_tags(trained)
    assert evidence["promotion.production.pr"] == str(promo.number)
    assert evidence["promotion.production.approvers"] == "carol"
    assert evidence["promotion.production.commit"] == git(work, "rev-parse", "origin/main")
    assert "sagemaker-mlflow:SetRegisteredModelAlias" in j.harness.ledger.actions("deploy")
    assert "sagemaker-mlflow:SetRegisteredModelAlias" not in j.harness.ledger.actions("pr")
    assert not j.harness.ledger.denied("deploy"), j.harness.ledger.report("deploy")
    assert_serves(j, applied, trained)
    j.promoted.append(trained)
    j.last_promotion = promo
    j.timings.append((f"{method}: whole journey", time.monotonic() - started))


def test_a_revert_of_the_promotion_rolls_the_champion_back(journey: Journey) -> None:
    j, work = journey, journey.work
    if len(j.promoted) < 2 or j.last_promotion is None:
        pytest.skip("needs two promotions by the journey above")
    git(work, "checkout", "-q", "-B", "revert-promotion", "origin/main")
    # The last change of deploy/models.yaml on main (a rebase merge leaves it as a plain commit).
    last = git(work, "log", "-1", "--format=%H", "--", "deploy/models.yaml")
    git(work, "revert", "--no-edit", "--no-commit", last)
    # Production only: staging keeps the newer version (the gate refuses to move staging back to a
    # version trained from other inputs than main's), and production takes the older one, which
    # staging smoke-tested when it was promoted.
    reverted = (work / "deploy/models.yaml").read_text()
    staging = re.search(r"staging:\n\s+version: \S+", git(work, "show", f"{last}:deploy/models.yaml"))
    assert staging, reverted
    (work / "deploy/models.yaml").write_text(re.sub(r"staging:\n\s+version: \S+", staging.group(0), reverted, count=1))
    git(work, "commit", "-qam", "Revert the production promotion")
    revert = j.github.open(work, "revert-promotion")
    j.act(
        "revert: promotion plan",
        "promote.yml",
        "promotion",
        "pull_request",
        pull_request_payload(j.github, revert),
        "pr",
    )
    applied = j.apply_promotion("revert: apply (deploy identity)", revert, "merge", "dave")
    assert_serves(j, applied, j.promoted[-2], envs=("production",))
    assert "already serves staging" in applied.output
    assert j.aliases()["champion"] == j.promoted[-2]
    assert j.aliases()["previous-champion"] == j.promoted[-1]
