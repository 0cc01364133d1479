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
  5. the champion is the version the PR pipeline trained, with the promotion PR and approver.
Then a revert of the last promotion, merged and applied, rolls the champion back.
Only GitHub's own steps are not run: the environment approval (act has none) and the comment
and PR creation (CML's contract fake, tests/promotion/fake_bin/cml).
"""

from __future__ import annotations

import json
import os
import re
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

    def apply_promotion(self, label: str, pull: PullRequest, method: str, approver: str) -> None:
        """Merge a promotion PR; the push runs `apply` as the deploy identity."""
        before = git(self.work, "rev-parse", "origin/main")
        after = self.github.merge(self.work, pull, method, [approver])
        self.act(label, "promote.yml", "apply", "push", push_payload(self.github, before, after), "deploy")


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
    j.apply_promotion(f"{method}: apply (deploy identity)", promo, method, "carol")

    # 5. The champion is the version the PR pipeline trained, with its evidence.
    assert j.aliases()["champion"] == trained
    evidence = j.version_tags(trained)
    assert evidence["promotion.production.pr"] == str(promo.number)
    assert evidence["promotion.production.approvers"] == "carol"
    assert evidence["promotion.production.commit"] == git(work, "rev-parse", "origin/main")
    assert "sagemaker-mlflow:SetRegisteredModelAlias" in j.harness.ledger.actions("deploy")
    assert "sagemaker-mlflow:SetRegisteredModelAlias" not in j.harness.ledger.actions("pr")
    assert not j.harness.ledger.denied("deploy"), j.harness.ledger.report("deploy")
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
    git(work, "revert", "--no-edit", last)
    revert = j.github.open(work, "revert-promotion")
    j.act(
        "revert: promotion plan",
        "promote.yml",
        "promotion",
        "pull_request",
        pull_request_payload(j.github, revert),
        "pr",
    )
    j.apply_promotion("revert: apply (deploy identity)", revert, "merge", "dave")
    assert j.aliases()["champion"] == j.promoted[-2]
    assert j.aliases()["previous-champion"] == j.promoted[-1]
