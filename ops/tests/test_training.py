"""`mlops-gitops train`: the launchers' requests (contract tests against each SDK's own models),
the SageMaker path end to end on moto, the entry point the training image runs, and every refusal.

No cloud runs here. What each cloud would receive is checked with its own SDK: botocore's
ParamValidator on SageMaker's service model, aiplatform_v1's `CustomJob` message (a wrong field or
type raises), azure-ai-ml's `command()` job and the REST body it converts to. The end-to-end test
uses moto's SageMaker and S3 in-process; moto marks a job Completed at once, so the test plays the
job itself: when the launcher has created it, the training image's entry point runs here on the
uploaded inputs, with the job's environment variables and the same relative paths.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_gitops import training
from mlops_gitops.training import Job, Outcome, Settings, aws

NAMES = itertools.count(1)
REGION = "eu-west-1"
BUCKET = "acme-data"
STORAGE = f"s3://{BUCKET}/training"
ROLE = "arn:aws:iam::123456789012:role/acme-training"
COMMAND = ["python", "-m", "model.train"]
TRAIN = {
    "seed": 7,
    "backend": "local",
    "instance_type": None,
    "spot": False,
    "max_runtime_minutes": 60,
    "max_wait_minutes": 120,
    "checkpoint_prefix": None,
}
PIPELINE = """stages:
  prepare:
    cmd: python -m model.prepare
    deps: [data/raw/dataset.csv, src/model/prepare.py]
    outs: [data/prepared.csv]
  train:
    cmd: mlops-gitops train run -- python -m model.train
    deps: [data/prepared.csv, src/model/train.py]
    params: [train.seed]
    outs:
      - models/model.joblib
      - models/registration.json:
          cache: false
"""
PREPARE = """import shutil
shutil.copyfile("data/raw/dataset.csv", "data/prepared.csv")
"""
# A train stage as the template's is written: MLflow pointed at the project's store and experiment,
# one run with the lineage tags, the model and registration.json written.
TRAIN_MODULE = """import json
from pathlib import Path

import joblib
import mlflow
import numpy as np
from mlops_gitops.lineage import training_tags
from mlops_gitops.project import load
from sklearn.ensemble import RandomForestClassifier

cfg = load()
data = np.loadtxt(cfg.path("data/prepared.csv"), delimiter=",", skiprows=1)
model = RandomForestClassifier(n_estimators=10, random_state=cfg.params["train"]["seed"])
model.fit(data[:, :-1], data[:, -1])
cfg.path("models").mkdir(exist_ok=True)
joblib.dump(model, cfg.path("models/model.joblib"))
mlflow.set_tracking_uri(cfg.tracking_uri)
mlflow.set_experiment(cfg.experiment)
with mlflow.start_run(tags=training_tags(cfg, ["data/prepared.csv"])) as run:
    mlflow.log_metric("accuracy", float(model.score(data[:, :-1], data[:, -1])))
cfg.path("models/registration.json").write_text(json.dumps({"run_id": run.info.run_id}) + "\\n")
"""


def write_training_project(root: Path, model: str, **train: Any) -> None:
    rows = ["a,b,label"] + [f"{i % 7 * 0.5},{(i * 3) % 11},{int(i % 7 > 3)}" for i in range(60)]
    params = {"model": {"name": model, "experiment": f"{model}-runs"}, "data": {"raw": "data/raw/dataset.csv"}}
    files = {
        "params.yaml": yaml.safe_dump({**params, "train": {**TRAIN, **train}}, sort_keys=False),
        "dvc.yaml": PIPELINE,
        "data/raw/dataset.csv": "\n".join(rows) + "\n",
        "src/model/__init__.py": "",
        "src/model/prepare.py": PREPARE,
        "src/model/train.py": TRAIN_MODULE,
        "pyproject.toml": '[project]\nname = "acme-churn"\nversion = "0.1.0"\n',
        "uv.lock": "version = 1\n",
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")


def set_params(root: Path, **train: Any) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["train"].update(train)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture
def cloud_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, empty_store: Path) -> None:
    """What CI has: the cloud's answers (repository variables), the tracking server, fake credentials;
    this interpreter's scripts (python, mlops-gitops) first on PATH, as in the project environment."""
    for key in ("MLFLOW_TRACKING_TOKEN", "TRAINING_IMAGE", "PROJECT_ROOT", "GITHUB_HEAD_REF", "PR_NUMBER"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    package = Path(training.__file__).resolve().parents[2]  # ops/src when run from the checkout
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(package), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{empty_store}")
    monkeypatch.setenv("MLFLOW_ARTIFACT_LOCATION", (tmp_path / "mlartifacts").as_uri())
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("TRAINING_ROLE", ROLE)
    monkeypatch.setenv("TRAINING_IMAGE_REPOSITORY", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme-training")
    monkeypatch.setenv("TRAINING_STORAGE_URL", STORAGE)


@pytest.fixture
def aws_cloud(cloud_env: None) -> Any:
    """moto's SageMaker and S3, with the project's data bucket."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield boto3


def _job(backend: str, spot: bool = True, instance: str = "x") -> Job:
    settings = Settings(backend, None, spot, 60, 120, "churn" if spot else None)
    return Job(
        name="acme-churn-train-20260101120000",
        image="registry.example/acme-training:lock-0123456789ab",
        role=ROLE,
        command=["mlops-gitops", "train", "container", "--", *COMMAND],
        env={"MLFLOW_TRACKING_URI": "https://mlflow.example", "MLFLOW_RUN_ID": "a" * 32},
        input_url=f"{STORAGE}/acme-churn-train-20260101120000/input",
        output_url=f"{STORAGE}/acme-churn-train-20260101120000/output",
        checkpoint_url=f"{STORAGE}/checkpoints/churn" if spot else None,
        settings=settings,
        instance_type=instance,
        labels={"project": "acme-churn"},
    )


# --- contract tests: each launcher's request, checked by its cloud's SDK -------------------------------


def test_contract_sagemaker_request_passes_botocore_validation() -> None:
    """Contract test (SageMaker CreateTrainingJob): the launcher's spot request validates against the
    sagemaker service model's input shape, with spot, max wait and checkpoints as SageMaker wants them."""
    import botocore.session
    from botocore.validate import ParamValidator

    request = aws.Backend({"AWS_REGION": REGION}).request(_job("sagemaker", instance="ml.m5.xlarge"))
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model("CreateTrainingJob")
    report = ParamValidator().validate(request, shape.input_shape)
    assert not report.has_errors(), report.generate_report()
    assert request["EnableManagedSpotTraining"] is True
    stopping = request["StoppingCondition"]
    assert stopping["MaxWaitTimeInSeconds"] >= stopping["MaxRuntimeInSeconds"] == 3600
    assert request["CheckpointConfig"] == {"S3Uri": f"{STORAGE}/checkpoints/churn", "LocalPath": "/opt/ml/checkpoints"}
    spec = request["AlgorithmSpecification"]
    assert spec["ContainerEntrypoint"] + spec["ContainerArguments"] == [
        "mlops-gitops",
        "train",
        "container",
        "--",
        *COMMAND,
    ]
    assert request["Environment"]["MLFLOW_RUN_ID"] == "a" * 32
    # The same validation refuses what SageMaker would: the check can fail.
    broken = {**request, "ResourceConfig": {**request["ResourceConfig"], "InstanceCount": "1"}}
    assert ParamValidator().validate(broken, shape.input_shape).has_errors()
    with pytest.raises(training.TrainingError, match="SageMaker request is invalid"):
        aws.validate(broken)


def test_contract_sagemaker_on_demand_has_no_spot_settings() -> None:
    """Contract test (SageMaker): without spot there is no max wait and no checkpoint config."""
    request = aws.Backend({"AWS_REGION": REGION}).request(_job("sagemaker", spot=False, instance="ml.m5.xlarge"))
    assert request["EnableManagedSpotTraining"] is False
    assert "MaxWaitTimeInSeconds" not in request["StoppingCondition"]
    assert "CheckpointConfig" not in request


def test_contract_vertex_custom_job_is_an_aiplatform_message() -> None:
    """Contract test (Vertex AI CustomJob): the request is aiplatform_v1's own message; it survives
    the wire format and fits the JobService create request, with SPOT and restart on preemption."""
    from google.cloud import aiplatform_v1

    from mlops_gitops.training import gcp

    backend = gcp.Backend({"GCP_PROJECT_ID": "acme", "GCP_REGION": "europe-west1"})
    job = backend.request(_job("vertex", instance="n1-standard-4"))
    wire = aiplatform_v1.CustomJob.serialize(job)
    assert aiplatform_v1.CustomJob.deserialize(wire) == job
    request = aiplatform_v1.CreateCustomJobRequest(parent="projects/acme/locations/europe-west1", custom_job=job)
    body = json.loads(aiplatform_v1.CreateCustomJobRequest.to_json(request))["customJob"]
    scheduling = body["jobSpec"]["scheduling"]
    assert scheduling["strategy"] == aiplatform_v1.Scheduling.Strategy.SPOT.value
    assert scheduling["restartJobOnWorkerRestart"] is True and scheduling["timeout"] == "3600s"
    assert body["jobSpec"]["serviceAccount"] == ROLE
    pool = body["jobSpec"]["workerPoolSpecs"][0]
    assert pool["machineSpec"]["machineType"] == "n1-standard-4" and pool["replicaCount"] == "1"
    assert pool["containerSpec"]["command"] == ["mlops-gitops", "train", "container", "--", *COMMAND]
    assert {"name": "MLFLOW_RUN_ID", "value": "a" * 32} in pool["containerSpec"]["env"]
    assert backend.checkpoint_env(_job("vertex")) == {
        "TRAINING_CHECKPOINT_DIR": f"/gcs/{BUCKET}/training/checkpoints/churn"
    }
    with pytest.raises((TypeError, ValueError, KeyError)):  # the message refuses what the API would
        aiplatform_v1.Scheduling(strategy="CHEAPEST")


def test_contract_azureml_command_job_rest_body() -> None:
    """Contract test (Azure ML command job): azure-ai-ml's `command()` with spot QueueSettings, a
    managed identity and no compute (serverless), as the REST body the SDK sends."""
    from mlops_gitops.training import azure

    backend = azure.Backend({})
    built = backend.request(_job("azureml", instance="Standard_DS3_v2"))
    body = built._to_job()._to_rest_object().as_dict()["properties"]
    assert body["jobType"] == "Command" and body["queueSettings"] == {"jobTier": "Spot"}
    assert "computeId" not in body  # serverless compute
    assert body["identity"] == {"clientId": ROLE, "identityType": "Managed"}
    assert body["resources"]["instanceType"] == "Standard_DS3_v2" and body["resources"]["instanceCount"] == 1
    assert body["limits"]["timeout"] == "PT1H"
    assert body["command"] == "mlops-gitops train container -- python -m model.train"
    assert body["environmentVariables"]["MLFLOW_RUN_ID"] == "a" * 32
    on_demand = backend.request(_job("azureml", spot=False))._to_job()._to_rest_object().as_dict()["properties"]
    assert on_demand["queueSettings"] == {"jobTier": "Standard"}
    # A workspace given by its id names its subscription and resource group.
    workspace = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/w1"
    assert azure.Backend({"TRAINING_WORKSPACE": workspace}).workspace() == ("s1", "rg1", "w1")


# --- params and answers: one line, nothing submitted ---------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = training.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("train", "env", "expected"),
    [
        ({"backend": "kubeflow"}, {}, "train.backend 'kubeflow' is unknown: use one of local, sagemaker"),
        ({"backend": "sagemaker", "spot": True}, {}, "train.spot is true but train.checkpoint_prefix is empty"),
        (
            {"backend": "sagemaker", "spot": True, "checkpoint_prefix": "churn", "max_wait_minutes": 30},
            {},
            "train.max_wait_minutes (30) is below train.max_runtime_minutes (60)",
        ),
        ({"backend": "sagemaker"}, {"TRAINING_ROLE": ""}, "TRAINING_ROLE is not set: the identity the job runs as"),
        (
            {"backend": "sagemaker"},
            {"TRAINING_IMAGE_REPOSITORY": ""},
            "TRAINING_IMAGE_REPOSITORY is not set: the registry the training image is pushed to",
        ),
        ({"backend": "sagemaker"}, {"TRAINING_STORAGE_URL": "gs://x/training"}, "is not a s3:// URL"),
        ({"backend": "sagemaker", "max_runtime_minutes": 0}, {}, "train.max_runtime_minutes is 0"),
    ],
)
def test_bad_input_is_one_line_before_anything_is_submitted(
    aws_cloud: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    train: dict[str, Any],
    env: dict[str, str],
    expected: str,
) -> None:
    root = tmp_path / "project"
    write_training_project(root, "bad-input", **train)
    (root / "data/prepared.csv").write_text("a,b,label\n1,2,0\n")
    monkeypatch.chdir(root)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out, err = run_cli(capsys, "run", "--", *COMMAND)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and expected in err, err
    s3, sagemaker = aws_cloud.client("s3", region_name=REGION), aws_cloud.client("sagemaker", region_name=REGION)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []


def test_missing_image_answer_without_lock(cloud_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "project"
    write_training_project(root, "no-lock", backend="sagemaker")
    (root / "uv.lock").unlink()
    monkeypatch.chdir(root)
    with pytest.raises(training.TrainingError, match=r"uv.lock is missing: run `uv lock`"):
        training.prepare(training.load(), training.read_settings(training.load().params), COMMAND, os.environ)


def test_local_backend_runs_the_command_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_training_project(tmp_path, "local")
    monkeypatch.chdir(tmp_path)
    code, _, _ = run_cli(capsys, "run", "--", sys.executable, "-c", "import sys; sys.exit(3)")
    assert code == 3


def test_image_prints_build_and_push_with_the_lock_tag(
    cloud_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_training_project(tmp_path, "image", backend="sagemaker")
    monkeypatch.chdir(tmp_path)
    tag = "lock-" + hashlib.sha256(b"version = 1\n").hexdigest()[:12]
    code, out, _ = run_cli(capsys, "image")
    assert code == 0
    image = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme-training:{tag}"
    assert f"docker build -f docker/training.Dockerfile -t {image} ." in out and f"docker push {image}" in out


# --- end to end on moto ---------------------------------------------------------------------------------


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def lock_shape(root: Path) -> dict[str, Any]:
    """dvc.lock's train stage: its deps and outs (paths and hashes), params and command."""
    stage = yaml.safe_load((root / "dvc.lock").read_text())["stages"]["train"]
    return {
        "cmd": stage["cmd"],
        "params": stage["params"],
        "deps": {d["path"]: d["md5"] for d in stage["deps"]},
        "outs": {o["path"]: o["md5"] for o in stage["outs"] if o["path"] != "models/registration.json"},
        "out_paths": sorted(o["path"] for o in stage["outs"]),
    }


def play_job(monkeypatch: pytest.MonkeyPatch, jobs: list[dict[str, Any]], workdir: Path) -> None:
    """moto creates the job and calls it Completed; the job's work is done here, before the waiter
    asks: the training image's entry point, run with the request's environment and arguments."""
    submit = aws.Backend.submit

    def submit_and_play(self: aws.Backend, job: Job) -> None:
        submit(self, job)
        request = self.request(job)
        jobs.append(request)
        arguments = request["AlgorithmSpecification"]["ContainerArguments"]
        assert request["AlgorithmSpecification"]["ContainerEntrypoint"] == ["mlops-gitops"]
        assert arguments == ["train", "container", "--", *COMMAND]
        assert training.container(arguments[3:], {**os.environ, **request["Environment"]}, workdir) == 0

    monkeypatch.setattr(aws.Backend, "submit", submit_and_play)


def test_sagemaker_end_to_end_on_moto_matches_a_local_run(
    aws_cloud: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same project trained by the local backend (dvc repro) and by SageMaker (moto): the job
    gets the inputs from S3 and writes the outputs there, the stage downloads them, and `dvc.lock`
    records the same deps and the same model hash; one MLflow run per training, tagged with the job."""
    from dvc.repo import Repo
    from mlflow import MlflowClient

    # An earlier test's `dvc` command may have bound DVC's log handler to a captured stream that
    # pytest has closed since; this test's DVC calls log through the root logger instead.
    monkeypatch.setattr(logging.getLogger("dvc"), "handlers", [])
    local, cloud = tmp_path / "local", tmp_path / "cloud"
    for root in (local, cloud):
        write_training_project(root, "e2e")
        Repo.init(str(root), no_scm=True)
    base_path = os.environ["PYTHONPATH"]

    monkeypatch.chdir(local)
    monkeypatch.setenv("PYTHONPATH", f"{local / 'src'}{os.pathsep}{base_path}")
    Repo(str(local)).reproduce()
    assert (local / "dvc.lock").is_file()

    monkeypatch.chdir(cloud)
    monkeypatch.setenv("PYTHONPATH", f"{cloud / 'src'}{os.pathsep}{base_path}")
    Repo(str(cloud)).reproduce("prepare")
    set_params(cloud, backend="sagemaker")
    jobs: list[dict[str, Any]] = []
    play_job(monkeypatch, jobs, tmp_path / "job")
    code, out, err = run_cli(capsys, "run", "--", *COMMAND)
    assert code == 0, err
    assert "completed; outputs in place: models/model.joblib, models/registration.json" in out
    Repo(str(cloud)).commit("train", force=True)

    # The job ran the stage's command on the uploaded inputs, under the same relative paths.
    (job,) = jobs
    name = job["TrainingJobName"]
    assert name.startswith("acme-churn-train-")
    s3 = aws_cloud.client("s3", region_name=REGION)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"training/{name}/")["Contents"]}
    assert {f"training/{name}/input/{p}" for p in ("data/prepared.csv", "src/model/train.py", "params.yaml")} <= keys
    assert f"training/{name}/output/models/model.joblib" in keys
    assert not list(cloud.glob(".training-*"))  # the scratch folder is gone

    # Identical whichever backend trained: the lock (deps, model hash, params, command) and lineage.
    assert lock_shape(cloud) == lock_shape(local)
    assert md5(cloud / "models/model.joblib") == md5(local / "models/model.joblib")
    client = MlflowClient()
    runs = {root: json.loads((root / "models/registration.json").read_text())["run_id"] for root in (local, cloud)}
    remote = client.get_run(runs[cloud])
    assert remote.info.status == "FINISHED"
    assert remote.data.tags["training.backend"] == "sagemaker" and remote.data.tags["training.job"] == name
    assert remote.data.tags["training.console_url"].startswith(f"https://{REGION}.console.aws.amazon.com/sagemaker/")
    assert remote.data.tags["lineage.fingerprint"] == client.get_run(runs[local]).data.tags["lineage.fingerprint"]
    assert remote.data.metrics["accuracy"] == client.get_run(runs[local]).data.metrics["accuracy"]
    experiment = client.get_experiment_by_name("e2e-runs").experiment_id
    tagged = client.search_runs([experiment], filter_string=f"tags.`training.job` = '{name}'")
    assert [r.info.run_id for r in tagged] == [runs[cloud]]  # one run per training


@pytest.mark.parametrize(
    ("outcome", "expected", "stopped"),
    [
        (Outcome("failed", "AlgorithmError: boom"), "failed (AlgorithmError: boom)", False),
        (Outcome("stopped", "spot capacity not found within train.max_wait_minutes"), "stopped (spot capacity", False),
        (Outcome("running"), "still running after 75 minutes; the job was stopped", True),
        (KeyboardInterrupt(), "interrupted; the job was stopped", True),
    ],
)
def test_a_job_that_does_not_succeed_leaves_nothing_and_is_stopped(
    aws_cloud: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    outcome: Any,
    expected: str,
    stopped: bool,
) -> None:
    from mlflow import MlflowClient

    model = f"failing-{next(NAMES)}"  # an experiment of its own in the session's store
    write_training_project(tmp_path, model, backend="sagemaker")
    (tmp_path / "data/prepared.csv").write_text("a,b,label\n1,2,0\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models/model.joblib").write_bytes(b"previous")
    monkeypatch.chdir(tmp_path)
    stops: list[str] = []

    def wait(self: aws.Backend, job: Job, timeout: float) -> Outcome:
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(aws.Backend, "wait", wait)
    monkeypatch.setattr(aws.Backend, "status", lambda self, job: Outcome("running"))
    monkeypatch.setattr(aws.Backend, "stop", lambda self, job: stops.append(job.name))
    code, _, err = run_cli(capsys, "run", "--", *COMMAND)
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    (summary,) = aws_cloud.client("sagemaker", region_name=REGION).list_training_jobs()["TrainingJobSummaries"]
    name = summary["TrainingJobName"]
    assert f"sagemaker job {name} {expected}" in err
    assert f"https://{REGION}.console.aws.amazon.com/sagemaker/home?region={REGION}#/jobs/{name}" in err
    assert stops == ([name] if stopped else [])
    assert (tmp_path / "models/model.joblib").read_bytes() == b"previous"  # nothing partial, nothing replaced
    assert not (tmp_path / "models/registration.json").exists()
    client = MlflowClient()
    (run,) = client.search_runs(
        [client.get_experiment_by_name(f"{model}-runs").experiment_id], f"tags.`training.job` = '{name}'"
    )
    assert run.info.status in ("FAILED", "KILLED")


def test_the_entry_point_uploads_nothing_when_the_command_fails(
    aws_cloud: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = aws_cloud.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key="training/j/input/params.yaml", Body=b"train: {}\n")
    env = {
        **os.environ,
        "TRAINING_BACKEND": "sagemaker",
        "TRAINING_INPUT_URL": f"{STORAGE}/j/input",
        "TRAINING_OUTPUT_URL": f"{STORAGE}/j/output",
        "TRAINING_OUTS": json.dumps(["models/model.joblib"]),
    }
    with pytest.raises(training.TrainingError, match="exited with 2: no outputs were uploaded"):
        training.container([sys.executable, "-c", "import sys; sys.exit(2)"], env, tmp_path / "job")
    assert (tmp_path / "job/params.yaml").is_file()  # the inputs were there, in the same relative paths
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="training/j/output/").get("KeyCount", 0) == 0


def test_job_inputs_are_what_the_fingerprint_reads_not_the_tracked_data(tmp_path: Path) -> None:
    """The job gets dvc.yaml, params.yaml, src/, the stage's deps and, for data a `.dvc` file tracks,
    that file only: the same lineage fingerprint as here, without uploading the raw data."""
    write_training_project(tmp_path, "inputs")
    (tmp_path / "data/raw/dataset.csv.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: dataset.csv\n"
    )
    (tmp_path / "data/prepared.csv").write_text("a,b,label\n1,2,0\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/notes.md").write_text("not an input\n")
    cfg = training.load(tmp_path)
    deps, outs = training.stage_io(cfg)
    assert deps == ["data/prepared.csv", "src/model/train.py"]
    assert outs == ["models/model.joblib", "models/registration.json"]
    assert training.job_inputs(cfg, deps) == [
        "data/prepared.csv",
        "data/raw/dataset.csv.dvc",
        "dvc.yaml",
        "params.yaml",
        "src/model/__init__.py",
        "src/model/prepare.py",
        "src/model/train.py",
    ]


class Recorder:
    """Stands in for a cloud client: records each call, answers with what the test gives."""

    def __init__(self, **answers: Any) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.answers = answers

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, kwargs or args))
            return self.answers.get(name)

        return call


def test_contract_vertex_submit_watch_and_cancel_use_the_job_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """Contract test (Vertex AI JobService): create under projects/<p>/locations/<r>, the console link
    from the created resource name, states read from aiplatform_v1's JobState, cancel only when running."""
    from google.cloud import aiplatform_v1

    from mlops_gitops.training import gcp

    created = aiplatform_v1.CustomJob(name="projects/42/locations/europe-west1/customJobs/777")
    running = aiplatform_v1.CustomJob(state=aiplatform_v1.JobState.JOB_STATE_RUNNING)
    client = Recorder(create_custom_job=created, get_custom_job=running)
    monkeypatch.setattr(gcp.Backend, "client", lambda self: client)
    backend, job = gcp.Backend({"GCP_PROJECT_ID": "acme", "GCP_REGION": "europe-west1"}), _job("vertex")
    backend.submit(job)
    name, kwargs = client.calls[0]
    assert name == "create_custom_job" and kwargs["parent"] == "projects/acme/locations/europe-west1"
    assert isinstance(kwargs["custom_job"], aiplatform_v1.CustomJob)
    assert job.console_url == (
        "https://console.cloud.google.com/vertex-ai/locations/europe-west1/training/777/cpu?project=acme"
    )
    assert backend.status(job) == Outcome("running", "")
    backend.stop(job)
    assert client.calls[-1] == ("cancel_custom_job", {"name": created.name})
    failed = aiplatform_v1.CustomJob(state=aiplatform_v1.JobState.JOB_STATE_FAILED, error={"message": "OOM"})
    client.answers["get_custom_job"] = failed
    assert backend.status(job) == Outcome("failed", "OOM")
    calls = len(client.calls)
    backend.stop(job)  # an ended job is not cancelled again
    assert [c[0] for c in client.calls[calls:]] == ["get_custom_job"]


def test_contract_azureml_submit_watch_and_cancel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Contract test (Azure ML jobs operations): the command job is created as built, the console link
    is the job's studio URL, Azure ML's statuses map to ours, cancel only while it runs."""
    from types import SimpleNamespace

    from azure.ai.ml.entities import Command

    from mlops_gitops.training import azure

    jobs = Recorder(
        create_or_update=SimpleNamespace(studio_url="https://ml.azure.com/runs/x"),
        get=SimpleNamespace(status="Running"),
    )
    monkeypatch.setattr(azure.Backend, "client", lambda self: SimpleNamespace(jobs=jobs))
    backend, job = azure.Backend({"TRAINING_WORKSPACE": "w"}), _job("azureml", instance="Standard_DS3_v2")
    backend.submit(job)
    assert isinstance(jobs.calls[0][1][0], Command) and job.console_url == "https://ml.azure.com/runs/x"
    assert backend.status(job).state == "running"
    backend.stop(job)
    assert jobs.calls[-1] == ("begin_cancel", (job.name,))
    jobs.answers["get"] = SimpleNamespace(status="Failed")
    assert backend.status(job) == Outcome("failed", "Failed")
    jobs.answers["get"] = SimpleNamespace(status="Completed")
    assert backend.status(job) == Outcome("completed", "")
