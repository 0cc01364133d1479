"""Each CI identity may do exactly what its workflow steps do (AWS).

One AWS project is rendered; its Terraform (terraform/aws/ci_roles.tf, as rendered) is evaluated
into the IAM policies of the `pr` and `deploy` roles (tests/helpers/permissions.py). The roles are
created in moto with IAM enforcement, assumed with sts:AssumeRole, and the workflow steps' real
commands run with their credentials:

- the PR pipeline (pr-pipeline.yml, identity `pr`): `make pull`, `make pipeline` (train and
  evaluate log and register to the session's `mlflow server` through the MLflow gate, which
  authorises each RPC as `sagemaker-mlflow:<Rpc>` against the role's statements; artifacts go to
  the emulated artifact bucket as the role), `make report`, `make push`;
- the promotion (promote.yml): `make promote-plan` as `pr`, `make promote` as `deploy`, and as `pr`,
  which must be refused (the PR identity never moves an alias);
- the registry backup (backup.yml, identity `backup`): `make backup` to the data bucket's
  registry-backup/ (BACKUP_URL) writes a snapshot, a second run copies nothing; the same command
  as `pr` is refused its first write there, and `backup` can neither move an alias nor delete;
- a role whose rendered ci_roles.tf lost one needed action fails its step with one clear line,
  and the harness names the denied action.

The harness's report (`pytest -s`) lists every call per identity and step. What moto and the
gate do not enforce (conditions, KMS through S3) is said in tests/helpers/permissions.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.permissions import (
    AwsCiHarness,
    Decision,
    Module,
    UnknownReference,
    decide,
    documented_sagemaker_action,
    drop_action,
    match_route,
    mlflow_routes,
    policy_document,
    sagemaker_action,
)
from helpers.project import git_init, render
from helpers.storage import committed_remote, split_url
from helpers.workflows import git

pytestmark = pytest.mark.slow

PROMOTE_ARGS = "--pr 1 --approvers alice --run-url local"
PR_STEPS = ("make pull", "make pipeline", "make report", "make push")
ALIAS_ACTIONS = {"sagemaker-mlflow:SetRegisteredModelAlias", "sagemaker-mlflow:DeleteRegisteredModelAlias"}


@dataclass
class Trained:
    harness: AwsCiHarness
    version: str
    seconds: dict[str, float]


@dataclass
class Promoted:
    harness: AwsCiHarness
    version: str
    refused: subprocess.CompletedProcess[str]  # `make promote` as the PR identity
    champion_after_apply: str | None
    champion_after_revert: str | None


def ok(done: subprocess.CompletedProcess[str], what: str) -> None:
    assert done.returncode == 0, f"{what} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The step's own error line (`<command>: ...`, `dr backup: ...` for a subcommand): exactly
    one, whatever else is logged (make's `make: ***` line; MLflow's header-plugin warnings, which
    an http:// tracking URI causes here)."""
    lines = [
        line
        for line in done.stderr.splitlines()
        if re.match(r"[a-z][\w-]*( [a-z][\w-]*)?: ", line) and line[:4] != "make"
    ]
    assert len(lines) == 1, f"expected one error line, got:\n{done.stderr[-4000:]}"
    return lines[0]


def alias(harness: AwsCiHarness, model: str, name: str) -> str | None:
    """The version behind an alias, read from the tracking server itself (not through a gate)."""
    query = urllib.parse.urlencode({"name": model, "alias": name})
    try:
        with urllib.request.urlopen(f"{harness.mlflow_url}/api/2.0/mlflow/registered-models/alias?{query}") as got:
            return str(json.loads(got.read())["model_version"]["version"])
    except urllib.error.HTTPError:
        return None


@pytest.fixture(scope="module")
def harness(shared_env, mlflow_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsCiHarness]:
    root = tmp_path_factory.mktemp("permissions-aws")
    # Own names: the session's tracking server is shared with other tests.
    project = render(root / "render", cloud_provider="aws", project_name="Permissions AWS")
    git_init(project)
    ready = AwsCiHarness(project, root, shared_env("3.11"), mlflow_server)
    try:
        # The DVC remote the project commits is the data bucket the Terraform names.
        bucket, _ = split_url(committed_remote(project)["url"])
        assert bucket == ready.buckets["data"]
        # main as the platform left it: the raw data in the bucket (pushed with admin rights),
        # then a fresh CI checkout without DVC cache or data.
        dvc = str(ready.venv / "bin" / "dvc")
        for args in (["commit", "-f", "-q", "data/raw/breast_cancer.csv.dvc"], ["push", "-q", "-r", "cloud"]):
            subprocess.run([dvc, *args], cwd=project, env=ready.admin_env(), check=True, capture_output=True)
        subprocess.run(["rm", "-rf", ".dvc/cache", "data/raw/breast_cancer.csv"], cwd=project, check=True)
        yield ready
    finally:
        print("\n" + "\n".join(ready.ledger.summary(identity) for identity in ready.identities))
        ready.stop()


@pytest.fixture(scope="module")
def trained(harness: AwsCiHarness) -> Trained:
    """pr-pipeline.yml's cloud steps as the `pr` identity, once: pull, pipeline, report, push."""
    seconds = {}
    for target in ("pull", "pipeline", "report", "push"):
        started = time.monotonic()
        done = harness.run("pr", target, extra={"PR_NUMBER": "1"})
        seconds[target] = time.monotonic() - started
        ok(done, f"make {target} as pr\n{harness.ledger.report('pr', [f'make {target}'])}")
    version = json.loads((harness.project / "models" / "registration.json").read_text())["version"]
    return Trained(harness, str(version), seconds)


@pytest.fixture(scope="module")
def promoted(trained: Trained) -> Promoted:
    """promote.yml: `propose` and `plan` as `pr`, `apply` as `pr` (refused) and as `deploy`, then the
    rollback: the promotion PR reverted, `apply` as `deploy` again."""
    harness, version = trained.harness, trained.version
    # The PR that trained is merged: main holds its model inputs.
    git(harness.project, "add", "-A")
    git(harness.project, "commit", "-q", "-m", "Merge the PR that trained the candidate")
    ok(
        harness.run("pr", "promote-propose", extra={"PROMOTE_ENV": "production", "PROMOTE_VERSION": "candidate"}),
        "make promote-propose as pr",
    )
    desired = (harness.project / "deploy" / "models.yaml").read_text()
    assert re.search(rf"production:\n\s+version: {version}\b", desired), desired
    git(harness.project, "commit", "-q", "-am", f"Promote production to version {version}")
    ok(harness.run("pr", "promote-plan"), "make promote-plan as pr")
    evidence = {"PROMOTE_ARGS": PROMOTE_ARGS}
    refused = harness.run("pr", "promote", extra=evidence)
    ok(harness.run("deploy", "promote", extra=evidence), "make promote as deploy")
    after_apply = alias(harness, "permissions_aws", "champion")
    git(harness.project, "revert", "--no-edit", "HEAD")
    ok(harness.run("deploy", "promote", extra=evidence), "make promote as deploy, after the revert")
    return Promoted(harness, version, refused, after_apply, alias(harness, "permissions_aws", "champion"))


@dataclass
class BackedUp:
    harness: AwsCiHarness
    url: str
    refused: subprocess.CompletedProcess[str]  # `make backup` as the PR identity
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    seconds: dict[str, float]


BACKUP_STEPS = ("make backup (first)", "make backup (again)")


@pytest.fixture(scope="module")
def backed_up(promoted: Promoted) -> BackedUp:
    """backup.yml's step as the `backup` identity, on the registry that training and promotion
    left (a version with lineage tags, evidence, a model card as description, aliases moved and
    rolled back): `make backup` to BACKUP_URL, twice; first, the same command as `pr`."""
    harness = promoted.harness
    url = harness.variables["BACKUP_URL"]
    # s3fs (the backup's client) reads the endpoint from botocore's own variable.
    assert harness.recorder is not None
    extra = {"BACKUP_URL": url, "AWS_ENDPOINT_URL_S3": harness.recorder.url}
    seconds = {}
    refused = harness.run("pr", "backup", extra=extra)
    runs = []
    for step in BACKUP_STEPS:
        started = time.monotonic()
        runs.append(harness.run("backup", "backup", extra=extra, step=step))
        seconds[step] = time.monotonic() - started
    return BackedUp(harness, url, refused, runs[0], runs[1], seconds)


def test_pr_pipeline_runs_with_the_pr_role(trained: Trained) -> None:
    harness = trained.harness
    print("\n" + harness.ledger.report("pr", PR_STEPS))
    print("PR steps: " + ", ".join(f"make {k} {v:.1f} s" for k, v in trained.seconds.items()))

    calls = [c for step in PR_STEPS for c in harness.ledger.of("pr", step)]
    assert not [c for c in calls if c.allowed is False], harness.ledger.report("pr", PR_STEPS)
    # Every MLflow call is an RPC that SageMaker authorises; no artifact went through the server.
    unchecked = {c.action for c in calls if c.allowed is None or c.action.startswith("mlflow-artifacts:")}
    assert unchecked <= {"unmapped:GET /health"}, unchecked
    mlflow = {c.action for c in calls if c.action.startswith("sagemaker-mlflow:")}
    assert all(documented_sagemaker_action(a) for a in mlflow), mlflow
    expected = {"CreateRun", "LogBatch", "LogOutputs", "FinalizeLoggedModel", "SetLoggedModelTags"}
    expected |= {"CreateRegisteredModel", "CreateModelVersion", "SetModelVersionTag", "GetExperimentByName"}
    assert {f"sagemaker-mlflow:{a}" for a in expected} <= mlflow, sorted(mlflow)
    # MLflow 3's CreateLoggedModel, authorised as LogModel (see SAGEMAKER_RENAMES).
    assert any(c.action == "sagemaker-mlflow:LogModel" and c.note == "RPC createLoggedModel" for c in calls)
    assert not mlflow & ALIAS_ACTIONS, "training moved an alias: the PR identity may not"

    # S3: moto and the rendered statements agree on every call; writes only where the policy says.
    assert not [c for c in calls if c.note.startswith("moto says")], [c for c in calls if c.note]
    data, artifacts = (f"arn:aws:s3:::{harness.buckets[k]}" for k in ("data", "artifacts"))
    _, prefix = split_url(committed_remote(harness.project)["url"])
    writes = {c.resource for c in calls if c.action == "s3:PutObject"}
    assert any(w.startswith(f"{data}/{prefix}/files/md5/") for w in writes), "make push wrote nothing"
    assert any(w.startswith(f"{artifacts}/mlflow/") for w in writes), "no MLflow artifact reached S3"
    assert all(w.startswith((f"{data}/{prefix}/files/md5/", f"{artifacts}/mlflow/")) for w in writes), writes
    assert "kms:GenerateDataKey" in {c.action for c in calls}  # static: the project key, for SSE-KMS writes


def test_pr_role_grants_no_alias_moves(harness: AwsCiHarness) -> None:
    """Static: no statement of the PR role allows an alias action; the gate refuses the calls."""
    pr = harness.identities["pr"]
    for action in ALIAS_ACTIONS:
        assert not decide(pr.role.statements, action, harness.mlflow_arn).allowed, action
        assert decide(harness.identities["deploy"].role.statements, action, harness.mlflow_arn).allowed, action
    request = urllib.request.Request(
        f"{pr.gate.url}/api/2.0/mlflow/registered-models/alias",
        data=json.dumps({"name": "anything", "alias": "champion", "version": "1"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    harness.ledger.step = "POST registered-models/alias (direct)"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert json.loads(refused.value.read()) == {
        "error_code": "PERMISSION_DENIED",
        "message": "pr may not sagemaker-mlflow:SetRegisteredModelAlias",
    }


def test_promotion_is_the_deploy_identity_only(promoted: Promoted) -> None:
    harness = promoted.harness
    print("\n" + harness.ledger.report("pr", ["make promote-propose", "make promote-plan", "make promote"]))
    print(harness.ledger.report("deploy"))
    # The PR identity proposes and plans; it cannot apply: one clear line naming the action.
    assert not harness.ledger.denied("pr", "make promote-propose"), harness.ledger.report("pr")
    assert not harness.ledger.denied("pr", "make promote-plan"), harness.ledger.report("pr")
    assert promoted.refused.returncode != 0, promoted.refused.stdout
    line = one_line_error(promoted.refused)
    assert "PERMISSION_DENIED" in line and "pr may not sagemaker-mlflow:" in line, line
    denied = harness.ledger.denied("pr", "make promote")
    assert denied and denied[-1].action in line, harness.ledger.report("pr", ["make promote"])
    # ...before any registry write: apply's first write (the card, UpdateModelVersion) is deploy-only.
    writes = [c.action for c in harness.ledger.of("pr", "make promote") if c.allowed and ":Set" in c.action]
    assert writes == [], harness.ledger.report("pr", ["make promote"])
    # The deploy identity applies and rolls back, with nothing refused.
    assert not harness.ledger.denied("deploy"), harness.ledger.report("deploy")
    assert (promoted.champion_after_apply, promoted.champion_after_revert) == (promoted.version, None)
    used = harness.ledger.actions("deploy", "sagemaker-mlflow:")
    assert used >= ALIAS_ACTIONS, used
    assert all(documented_sagemaker_action(a) for a in used), used


def test_backup_runs_with_the_backup_role_only(backed_up: BackedUp) -> None:
    """`make backup` as `backup`: registry reads, model files read from mlflow/, files added
    under registry-backup/ of the data bucket only, nothing refused; a second run adds nothing.
    As `pr` (which may read the data bucket but write only DVC objects) the same command is
    refused its first write under registry-backup/, in one line, and the harness names it."""
    harness = backed_up.harness
    print("\n" + harness.ledger.report("backup", BACKUP_STEPS))
    print(harness.ledger.report("pr", ["make backup"]))
    print("backup: " + ", ".join(f"{k} {v:.1f} s" for k, v in backed_up.seconds.items()))
    data, artifacts = (f"arn:aws:s3:::{harness.buckets[k]}" for k in ("data", "artifacts"))
    assert backed_up.url == f"s3://{harness.buckets['data']}/registry-backup"

    ok(backed_up.first, f"make backup as backup\n{harness.ledger.report('backup', BACKUP_STEPS[:1])}")
    assert "backup: snapshot " in backed_up.first.stdout, backed_up.first.stdout
    ok(backed_up.second, "make backup as backup, again")
    assert "nothing new" in backed_up.second.stdout, backed_up.second.stdout
    calls = [c for step in BACKUP_STEPS for c in harness.ledger.of("backup", step)]
    assert calls and not [c for c in calls if c.allowed is False], harness.ledger.report("backup", BACKUP_STEPS)
    assert not [c for c in calls if c.note.startswith("moto says")], [c for c in calls if c.note]
    unchecked = {c.action for c in calls if c.allowed is None or c.action.startswith("mlflow-artifacts:")}
    assert unchecked <= {"unmapped:GET /health"}, unchecked
    # MLflow: reads only, each a documented action.
    mlflow = {c.action.removeprefix("sagemaker-mlflow:") for c in calls if c.action.startswith("sagemaker-mlflow:")}
    assert all(documented_sagemaker_action(f"sagemaker-mlflow:{a}") for a in mlflow), mlflow
    assert {"GetRegisteredModel", "SearchModelVersions", "GetRun"} <= mlflow, sorted(mlflow)
    assert all(a.startswith(("Get", "Search", "List")) for a in mlflow), sorted(mlflow)
    # S3: the model files read under mlflow/ of the artifact bucket, writes only under registry-backup/.
    reads = {c.resource for c in calls if c.action == "s3:GetObject"}
    writes = [c.resource for c in calls if c.action == "s3:PutObject"]
    assert any(r.startswith(f"{artifacts}/mlflow/") for r in reads), sorted(reads)
    assert writes and all(w.startswith(f"{data}/registry-backup/") for w in writes), writes
    assert any(w.endswith("/manifest.json") for w in writes), writes
    assert not [c for c in harness.ledger.of("backup", BACKUP_STEPS[1]) if c.action == "s3:PutObject"]
    assert "kms:GenerateDataKey" in {c.action for c in calls}  # static: the project key

    # The PR identity: refused before it copies anything (it may not ask for a version's download
    # URI, a deploy and backup action), in one line that the harness's record names; nothing written.
    assert backed_up.refused.returncode != 0, backed_up.refused.stdout
    line = one_line_error(backed_up.refused)
    print(f"make backup as pr: {line}")
    denied = harness.ledger.denied("pr", "make backup")
    assert len(denied) == 1 and f"pr may not {denied[0].action}" in line, (line, denied)
    assert not [c for c in harness.ledger.of("pr", "make backup") if c.action == "s3:PutObject"]


def test_backup_without_its_write_fails(backed_up: BackedUp) -> None:
    """ci_roles.tf without s3:PutObject under registry-backup/: `make backup` to a new location
    under that prefix fails at its first write, in one line, and the harness names the refused
    call (moto's decision, the rendered statements agreeing)."""
    harness = backed_up.harness
    harness.variant("backup-no-put", "backup", lambda tf: drop_action(tf, "WriteBackup", "s3:PutObject"))
    assert harness.recorder is not None
    url = f"{backed_up.url}/probe-{int(time.time())}"  # empty: everything must be written
    failed = harness.run(
        "backup-no-put", "backup", extra={"BACKUP_URL": url, "AWS_ENDPOINT_URL_S3": harness.recorder.url}
    )
    assert failed.returncode != 0, failed.stdout
    line = one_line_error(failed)
    print(f"\nmake backup without s3:PutObject: {line}")
    assert line.startswith("dr backup:"), line
    denied = harness.ledger.denied("backup-no-put")
    data = f"arn:aws:s3:::{harness.buckets['data']}"
    assert [c.action for c in denied] == ["s3:PutObject"], harness.ledger.report("backup-no-put")
    assert denied[0].resource.startswith(f"{data}/registry-backup/probe-") and denied[0].how == "moto"
    assert not denied[0].note, denied[0].note  # moto and the statements agree


def test_backup_role_moves_no_alias_and_deletes_nothing(harness: AwsCiHarness) -> None:
    """Static and through the gate / moto: no statement of the backup role allows an alias, a tag
    or a delete; a direct alias call and an S3 delete under registry-backup/ are refused."""
    backup = harness.identities["backup"]
    writes = ALIAS_ACTIONS | {f"sagemaker-mlflow:{a}" for a in ("SetModelVersionTag", "UpdateModelVersion")}
    writes |= {"sagemaker-mlflow:DeleteModelVersion", "sagemaker-mlflow:CreateModelVersion"}
    for action in writes:
        assert not decide(backup.role.statements, action, harness.mlflow_arn).allowed, action
    request = urllib.request.Request(
        f"{backup.gate.url}/api/2.0/mlflow/registered-models/alias",
        data=json.dumps({"name": "anything", "alias": "champion", "version": "1"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    harness.ledger.step = "POST registered-models/alias (direct)"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert json.loads(refused.value.read())["message"] == "backup may not sagemaker-mlflow:SetRegisteredModelAlias"
    key = "registry-backup/probe.txt"
    harness.ledger.step = "s3 DeleteObject (direct)"
    assert harness.recorder is not None
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=harness.recorder.url,  # through the recorder, which names the call
        region_name=harness.region,
        aws_access_key_id=backup.credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=backup.credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=backup.credentials["AWS_SESSION_TOKEN"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    with pytest.raises(Exception, match="AccessDenied"):
        s3.delete_object(Bucket=harness.buckets["data"], Key=key)
    denied = harness.ledger.denied("backup", "s3 DeleteObject (direct)")
    assert [(c.action, c.resource) for c in denied] == [
        ("s3:DeleteObject", f"arn:aws:s3:::{harness.buckets['data']}/{key}")
    ]
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion"):
        resource = f"arn:aws:s3:::{harness.buckets['data']}/{key}"
        assert not decide(backup.role.statements, action, resource).allowed, action


# sagemaker-mlflow actions a policy grants that no step exercised here calls, each with its reason.
# test_every_grant_is_used_or_kept keeps this list true: a step that starts or stops calling an
# action changes it (and docs/permissions.md).
KEPT = {
    "ci_common": {
        # The same run-scoped writes as LogBatch (which the steps call), for the engineer's own
        # mlflow.log_metric / log_param / set_tag / log_input calls in the stages.
        "LogMetric",
        "LogParam",
        "SetTag",
        "LogInputs",
        # Reads of what GetRun / GetExperiment / the artifact bucket already expose.
        "SearchRuns",
        "SearchExperiments",
        "ListArtifacts",
    },
    "deploy": {
        # Building the serving image from the registered model (`mlflow sagemaker
        # build-and-push-container`, docs/cloud/aws.md): no workflow step yet.
        "GetDownloadURIForModelVersionArtifacts",
    },
    "backup": {
        # Registry reads the backup makes on registries other than this test's: a version
        # registered from an MLflow 3 logged model by `models:/<model id>` (GetLoggedModel), model
        # files resolved through a `models:/name/<version>` or `models:/name@alias` URI
        # (GetModelVersion, GetModelVersionByAlias) or listed through the server (ListArtifacts),
        # and every registered model rather than params.yaml's (SearchRegisteredModels).
        "GetLoggedModel",
        "GetModelVersion",
        "GetModelVersionByAlias",
        "ListArtifacts",
        "SearchRegisteredModels",
    },
}


def test_every_grant_is_used_or_kept(promoted: Promoted, backed_up: BackedUp) -> None:
    """Exactly what the steps do: each sagemaker-mlflow action of a policy is called by a step of
    an identity holding it, or listed in KEPT with its reason."""
    harness = promoted.harness
    used = {
        identity: {
            c.action for c in harness.ledger.of(identity) if c.allowed and c.action.startswith("sagemaker-mlflow:")
        }
        for identity in ("pr", "deploy", "backup")
    }
    unused = {}
    for policy in {p.document_name: p for role in harness.roles.values() for p in role.policies}.values():
        holders = [key for key, role in harness.roles.items() if policy in role.policies]
        granted = {a for s in policy.document["Statement"] for a in s["Action"] if a.startswith("sagemaker-mlflow:")}
        if not granted:  # no MLflow action (e.g. training.tf's pr_training, deploy_training_image)
            continue
        called = set().union(*(used[h] for h in holders))
        unused[policy.document_name] = {a.split(":")[1] for a in granted - called}
    print(f"\ngranted, not called by the steps: {unused}")
    assert unused == KEPT


def test_every_granted_mlflow_action_is_documented(harness: AwsCiHarness) -> None:
    """A typo in an action name grants nothing on AWS: each sagemaker-mlflow action of the
    rendered policies is one the Service Authorization Reference defines."""
    for identity in ("pr", "deploy", "backup"):
        granted = {
            action
            for statement in harness.identities[identity].role.statements
            for action in statement["Action"]
            if action.startswith("sagemaker-mlflow:")
        }
        assert granted and all(documented_sagemaker_action(a) for a in granted), granted


def test_a_missing_s3_action_fails_the_step(harness: AwsCiHarness, trained: Trained) -> None:
    """ci_roles.tf without s3:PutObject on the DVC objects: `make push` fails in one line, and
    the harness names the refused call."""
    harness.variant("pr-no-put", "pr", lambda tf: drop_action(tf, "PushDvcObjects", "s3:PutObject"))
    # Something not yet in the bucket: a new DVC-tracked file.
    probe = harness.project / "probe"
    probe.mkdir(exist_ok=True)
    (probe / "new.txt").write_text(f"{time.time()}\n")
    dvc = str(harness.venv / "bin" / "dvc")
    subprocess.run([dvc, "add", "-q", "probe/new.txt"], cwd=harness.project, env=harness.admin_env(), check=True)
    try:
        failed = harness.run("pr-no-put", "push")
    finally:
        subprocess.run(["rm", "-rf", "probe"], cwd=harness.project, check=True)
    assert failed.returncode != 0, failed.stdout
    line = one_line_error(failed)
    print(f"\nmake push without s3:PutObject: {line}")
    assert line.startswith("push:") and "its role lacks the permission" in line, line
    denied = {(c.action, c.resource.split("/files/")[0]) for c in harness.ledger.denied("pr-no-put")}
    assert ("s3:PutObject", f"arn:aws:s3:::{harness.buckets['data']}/dvc") in denied, denied


def test_a_missing_mlflow_action_fails_the_step(harness: AwsCiHarness, trained: Trained) -> None:
    """ci_roles.tf without sagemaker-mlflow:GetRegisteredModel: `make promote-plan` fails in one line
    that names the action, and the harness records it refused."""
    harness.variant(
        "pr-no-get-model",
        "pr",
        lambda tf: drop_action(tf, "TrackCandidateRuns", "sagemaker-mlflow:GetRegisteredModel"),
    )
    failed = harness.run("pr-no-get-model", "promote-plan")
    assert failed.returncode != 0, failed.stdout
    line = one_line_error(failed)
    print(f"\nmake promote-plan without sagemaker-mlflow:GetRegisteredModel: {line}")
    assert "pr-no-get-model may not sagemaker-mlflow:GetRegisteredModel" in line, line
    assert [c.action for c in harness.ledger.denied("pr-no-get-model")] == ["sagemaker-mlflow:GetRegisteredModel"]


def test_rendered_names_match_the_project(harness: AwsCiHarness) -> None:
    """The harness computed the names from Terraform; the project's other files agree."""
    assert harness.buckets == {"data": "my-org-permissions-aws-data", "artifacts": "my-org-permissions-aws-artifacts"}
    assert harness.variables["MLFLOW_ARTIFACT_LOCATION"] == "s3://my-org-permissions-aws-artifacts/mlflow"
    assert {r.name for r in harness.roles.values()} == {
        "permissions-aws-ci-pr",
        "permissions-aws-ci-deploy",
        "permissions-aws-ci-backup",
    }
    assert harness.variables["BACKUP_URL"] == "s3://my-org-permissions-aws-data/registry-backup"
    assert harness.variables["AWS_BACKUP_ROLE_ARN"] == harness.roles["backup"].arn
    assert Path(harness.project / "terraform/aws/ci_roles.tf").is_file()


def test_unknown_references_raise(tmp_path: Path) -> None:
    """The evaluator stops at what it does not know, so a statement is never silently dropped."""
    (tmp_path / "main.tf").write_text(
        """
locals {
  known = "arn:aws:s3:::bucket"
}
data "aws_iam_policy_document" "function" {
  statement {
    sid       = "Known"
    actions   = ["s3:GetObject"]
    resources = ["${local.known}/*", "${upper(local.known)}"]
  }
}
data "aws_iam_policy_document" "unknown" {
  statement {
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.project.arn]
  }
}
data "aws_iam_policy_document" "not_actions" {
  statement {
    not_actions = ["s3:*"]
    resources   = ["*"]
  }
}
"""
    )
    module = Module(tmp_path)
    for name, why in (("function", "upper"), ("unknown", "aws_kms_key.project"), ("not_actions", "not_actions")):
        with pytest.raises(UnknownReference, match=why):
            policy_document(module, name)


def test_iam_evaluation_rules() -> None:
    statements = [
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:Get*"], "Resource": ["arn:aws:s3:::b/data/*"]},
        {"Sid": "NoSecrets", "Effect": "Deny", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/data/secret*"]},
        {
            "Sid": "Conditional",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": ["*"],
            "Condition": {"StringEquals": {"aws:SourceVpc": ["vpc-1"]}},
        },
    ]
    assert decide(statements, "S3:getobject", "arn:aws:s3:::b/data/x") == Decision(True, "Read")  # actions: any case
    assert not decide(statements, "s3:GetObject", "arn:aws:s3:::B/data/x").allowed  # resources: exact case
    assert decide(statements, "s3:GetObject", "arn:aws:s3:::b/data/secret.txt") == Decision(
        False, "NoSecrets", "explicit deny"
    )
    assert not decide(statements, "s3:PutObject", "arn:aws:s3:::b/data/x").allowed  # conditions grant nothing


def test_mlflow_routes_name_the_rpc(shared_env) -> None:
    """Path templates match, literal paths win over templates, both API prefixes count."""
    routes = mlflow_routes(str(shared_env("3.11") / "bin" / "python"))
    for method, path, rpc in (
        ("POST", "/api/2.0/mlflow/logged-models", "createLoggedModel"),
        ("PATCH", "/api/2.0/mlflow/logged-models/m-0123", "finalizeLoggedModel"),
        ("POST", "/api/2.0/mlflow/logged-models/search", "searchLoggedModels"),
        ("GET", "/ajax-api/2.0/mlflow/logged-models/m-0123?x=1", "getLoggedModel"),
        ("POST", "/api/2.0/mlflow/registered-models/alias", "setRegisteredModelAlias"),
        ("DELETE", "/api/2.0/mlflow/registered-models/alias", "deleteRegisteredModelAlias"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/a/b.txt", "uploadArtifact"),
    ):
        found = match_route(routes, method, path)
        assert found is not None and found.rpc == rpc, (method, path, found)
    assert match_route(routes, "GET", "/health") is None
    assert sagemaker_action("getModelVersionDownloadUri") == "sagemaker-mlflow:GetDownloadURIForModelVersionArtifacts"
    assert sagemaker_action("searchTracesV3") == "sagemaker-mlflow:SearchTraces"
