"""Each cloud's data and artifact storage, end to end against its local emulator.

A project is rendered per cloud and its COMMITTED `cloud` DVC remote is used as it is: only the
endpoint and the credentials are overridden, with `dvc remote modify --local` (what the workflows
do). Data moves with the project's own commands (`make push`, `make pull`); MLflow artifacts go
through a real `mlflow server` whose `--artifacts-destination` is a bucket of the emulator.

Emulators: moto's server (S3, IAM auth on), Azurite (Azure Blob), gcp-storage-emulator (GCS).
What an emulator cannot show is said where it matters (see tests/helpers/storage.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers.mlflow_server import free_port
from helpers.project import git_init, project_command_env, render
from helpers.storage import EmulatedRemote, Emulator, clean_env, committed_remote, split_url

pytestmark = pytest.mark.slow

CLOUDS = ("aws", "azure", "gcp")
LARGE = 50 * 1024 * 1024  # bytes in the large file
SHARDS, SHARD = 16, 2 * 1024 * 1024  # files and bytes of the folder whose push is interrupted
# The only keys a test may put in config.local: the endpoint and the credentials.
OVERRIDABLE = {
    "endpointurl",
    "access_key_id",
    "secret_access_key",
    "connection_string",
    "allow_anonymous_login",
    "credentialpath",
}


@dataclass
class Project:
    path: Path
    cloud: str
    emulator: Emulator
    remote: EmulatedRemote
    venv: Path

    @property
    def bucket_and_prefix(self) -> tuple[str, str]:
        return split_url(committed_remote(self.path)["url"])

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return clean_env({**project_command_env(self.venv), **self.remote.env, **(extra or {})})

    def dvc(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(self.venv / "bin" / "dvc"), *args], cwd=self.path, env=self.env(), capture_output=True, text=True
        )
        assert done.returncode == 0, f"dvc {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    def make(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "--no-print-directory", *args], cwd=self.path, env=self.env(env), capture_output=True, text=True
        )

    def objects(self) -> dict[str, int]:
        bucket, prefix = self.bucket_and_prefix
        return {
            key.removeprefix(f"{prefix}/"): size for key, size in self.emulator.list_objects(bucket, prefix).items()
        }

    def cache(self) -> dict[str, str]:
        """{path in the cache: sha256} of every object in the local DVC cache."""
        root = self.path / ".dvc" / "cache"
        return {str(p.relative_to(root)): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}

    def wipe(self, *outputs: str) -> None:
        shutil.rmtree(self.path / ".dvc" / "cache")
        for output in outputs:
            target = self.path / output
            shutil.rmtree(target) if target.is_dir() else target.unlink()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_hashes(project: Path, *outputs: str) -> dict[str, str]:
    found = {}
    for output in outputs:
        target = project / output
        files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
        found.update({str(p.relative_to(project)): sha256(p) for p in files})
    return found


def own_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    """What the project's command printed, without make's own `make: *** [...] Error 1` trailer."""
    return [line for line in (done.stdout + done.stderr).splitlines() if line.strip() and not line.startswith("make")]


def seconds_of(started: float) -> float:
    return round(time.monotonic() - started, 1)


@pytest.fixture(scope="module", params=CLOUDS)
def project(
    request: pytest.FixtureRequest,
    shared_env: Any,
    storage_emulator: Any,
    dvc_emulator_remote: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Project:
    cloud = request.param
    path = render(tmp_path_factory.mktemp(f"storage-{cloud}"), cloud_provider=cloud)
    git_init(path)
    remote = dvc_emulator_remote(cloud, path)
    made = Project(path, cloud, storage_emulator(cloud), remote, shared_env("3.11"))
    remote.apply(path, made.venv / "bin" / "dvc")
    # The raw data a generated project ships, into the DVC cache (what `make setup` does).
    made.dvc("commit", "-f", "-q", "data/raw/breast_cancer.csv.dvc")
    return made


def test_only_endpoint_and_credentials_are_overridden(project: Project) -> None:
    local = (project.path / ".dvc" / "config.local").read_text()
    keys = set(re.findall(r"^\s*(\w+)\s*=", local, re.MULTILINE))
    assert keys <= OVERRIDABLE, keys - OVERRIDABLE
    assert (
        subprocess.run(
            ["git", "status", "--porcelain", ".dvc/config"],
            cwd=project.path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        == ""
    )
    expected = {"aws": "s3://", "azure": "azure://", "gcp": "gs://"}[project.cloud]
    assert committed_remote(project.path)["url"].startswith(expected)
    if project.cloud == "azure":
        # The account is part of the endpoint, so the connection string stands in for it; it must
        # still be a valid storage account name for the real cloud.
        assert re.fullmatch(r"[a-z0-9]{3,24}", committed_remote(project.path)["account_name"])


def test_a_50mb_file_makes_the_round_trip_byte_identical(project: Project, storage_timings: dict[str, Any]) -> None:
    large = project.path / "data" / "raw" / "large.bin"
    large.write_bytes(os.urandom(LARGE))
    project.dvc("add", "-q", "data/raw/large.bin")
    outputs = ("data/raw/breast_cancer.csv", "data/raw/large.bin")
    before = tree_hashes(project.path, *outputs)

    started = time.monotonic()
    pushed = project.make("push")
    storage_timings[project.cloud]["push 50 MB"] = seconds_of(started)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "2 files pushed" in pushed.stdout
    objects = project.objects()
    assert sorted(objects.values())[-1] == LARGE, objects

    project.wipe(*outputs)
    started = time.monotonic()
    pulled = project.make("pull")
    storage_timings[project.cloud]["pull 50 MB"] = seconds_of(started)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert tree_hashes(project.path, *outputs) == before


def settled(project: Project, seconds: float = 10) -> dict[str, int]:
    """The bucket's objects once its listing is the same two seconds apart (ten seconds at most)."""
    deadline, previous = time.monotonic() + seconds, project.objects()
    while time.monotonic() < deadline:
        time.sleep(2)
        current = project.objects()
        if current == previous:
            break
        previous = current
    return previous


def test_gcs_emulator_stores_no_upload_whose_body_was_cut(storage_emulator: Any) -> None:
    """GCS commits an upload only once its whole body has arrived; the patched emulator must too,
    or the killed-push test below would be judging the emulator's artefacts."""
    emulator = storage_emulator("gcp")
    emulator.create_bucket("cut-uploads")
    query = "uploadType=media&name=cut.bin"
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=10) as client:
        head = f"POST /upload/storage/v1/b/cut-uploads/o?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
        client.sendall(head.encode() + b"x" * 400)
        client.shutdown(socket.SHUT_WR)  # the client dies mid-body
        client.recv(1024)
    complete = urllib.request.Request(
        f"{emulator.endpoint}/upload/storage/v1/b/cut-uploads/o?uploadType=media&name=whole.bin", data=b"y" * 1000
    )
    urllib.request.urlopen(complete, timeout=10).close()
    assert emulator.list_objects("cut-uploads") == {"whole.bin": 1000}


def test_a_push_killed_midway_completes_on_rerun_with_nothing_lost_or_duplicated(project: Project) -> None:
    shards = project.path / "data" / "shards"
    shards.mkdir()
    for index in range(SHARDS):
        (shards / f"part-{index:02d}.bin").write_bytes(os.urandom(SHARD))
    cached_before = set(project.cache())
    project.dvc("add", "-q", "data/shards")
    before = tree_hashes(project.path, "data/shards")
    already = set(project.objects())
    expected = set(project.cache())  # every cache object: the raw data, the large file, the shards

    # One transfer at a time, killed (SIGKILL, as a cancelled CI job is) once some have landed.
    push = subprocess.Popen(
        ["make", "--no-print-directory", "push", "JOBS=1"],
        cwd=project.path,
        env=project.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    landed: set[str] = set()
    while time.monotonic() < deadline and push.poll() is None and len(landed) < 2:
        landed = set(project.objects()) - already
        time.sleep(0.05)
    os.killpg(push.pid, signal.SIGKILL)
    push.wait()
    # A request whose body was sent may still be committed by the server after the kill: wait until the bucket's listing holds still for two seconds.
    objects = settled(project)
    cache_root = project.path / ".dvc" / "cache"
    truncated = {k for k, size in objects.items() if k not in already and size != (cache_root / k).stat().st_size}
    assert not truncated, f"a killed upload left truncated objects: {sorted(truncated)}"
    landed = set(project.objects()) - already
    missing = expected - already - landed
    assert landed and missing, f"the push was not caught mid-way: {len(landed)} landed, {len(missing)} missing"

    rerun = project.make("push")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    # Only what had not landed is sent again (objects are content-addressed: a partial object is
    # never visible under its final name, so it cannot be mistaken for a finished one).
    assert f"{len(missing)} file{'s' if len(missing) > 1 else ''} pushed" in rerun.stdout, rerun.stdout
    objects = project.objects()
    assert set(objects) == expected, set(objects) ^ expected
    assert all(objects[key] == (cache_root / key).stat().st_size for key in expected)

    # Only the shards go (folder and cache objects), so the pull fetches exactly them.
    shutil.rmtree(shards)
    for key in expected - cached_before:
        (cache_root / key).unlink()
    pulled = project.make("pull")
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert tree_hashes(project.path, "data/shards") == before


BAD = {
    "wrong-bucket": "does not exist",
    "wrong-credentials": "refused the credentials",
    "unreachable-endpoint": "cannot reach the storage endpoint",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_configuration_is_one_clear_line_and_the_cache_stays(project: Project, case: str) -> None:
    local = project.path / ".dvc" / "config.local"
    saved = local.read_text()
    dvc = project.venv / "bin" / "dvc"
    # A pull only asks the remote for what is missing: the raw data is, here, as on a fresh clone.
    raw = project.path / "data" / "raw" / "breast_cancer.csv"
    md5 = re.search(r"md5: (\w+)", raw.with_suffix(".csv.dvc").read_text())
    assert md5
    cached = project.path / ".dvc" / "cache" / "files" / "md5" / md5[1][:2] / md5[1][2:]
    kept = raw.read_bytes()
    try:
        if case == "wrong-bucket":
            scheme = committed_remote(project.path)["url"].split("://")[0]
            project.dvc("remote", "modify", "--local", "cloud", "url", f"{scheme}://no-such-bucket-{os.getpid()}/dvc")
        elif case == "wrong-credentials":
            project.emulator.wrong_credentials().apply(project.path, dvc)
        else:
            project.emulator.unreachable(free_port()).apply(project.path, dvc)
        for command in ("push", "pull"):
            if command == "pull":
                raw.unlink()
                cached.unlink()
            cache = project.cache()
            assert cache
            started = time.monotonic()
            done = project.make(command)
            lines = own_lines(done)
            assert done.returncode != 0, lines
            assert len(lines) == 1, lines
            assert lines[0].startswith(f"{command}: ") and BAD[case] in lines[0], lines
            assert "Traceback" not in done.stdout + done.stderr
            assert time.monotonic() - started < 60
            assert project.cache() == cache
    finally:
        local.write_text(saved)
        if not raw.exists():  # put back what the pull case removed, without the remote
            raw.write_bytes(kept)
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(kept)


TRAINING_INPUTS = ("data/prepared", "data/features", "models/featurizer.joblib", "reports/validation.json")


@pytest.fixture(scope="module", autouse=True)
def mlflow_servers_start_early(request: pytest.FixtureRequest, mlflow_on_bucket: Any) -> None:
    """A server takes ~20 s to start: those this run needs start now, while the data tests run."""
    clouds = {
        item.callspec.params["project"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_a_training_runs_model_lands_in_the_bucket_and_loads_by_alias"
    }
    mlflow_on_bucket.start(*sorted(clouds))


@pytest.fixture(scope="module")
def training_inputs(shared_env: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pipeline up to featurize, run once: each cloud's test then runs the train stage itself."""
    path = render(tmp_path_factory.mktemp("training-inputs"))
    git_init(path)
    venv = shared_env("3.11")
    env = project_command_env(venv)
    env.update(PYTHONPATH=str(path / "src"), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    done = subprocess.run(
        [str(shared_env("3.11") / "bin" / "dvc"), "repro", "featurize"],
        cwd=path,
        env=clean_env(env),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return path


LOAD_BY_ALIAS = """
import json, sys, joblib, mlflow, pandas as pd
local = joblib.load("models/model.joblib")
test = pd.read_csv("data/features/test.csv")
features = list(local.feature_names_in_)
for registration in sys.argv[1:]:
    reg = json.load(open(registration))
    # Training moves no alias; promotion does (the deploy identity): stand in for it.
    mlflow.MlflowClient().set_registered_model_alias(reg["model_name"], "staging", reg["version"])
    served = mlflow.sklearn.load_model(f"models:/{reg['model_name']}@staging")
    assert (served.predict_proba(test[features]) == local.predict_proba(test[features])).all()
    print("loaded", reg["model_name"], "staging", reg["version"])
"""


def test_a_training_runs_model_lands_in_the_bucket_and_loads_by_alias(
    project: Project, mlflow_on_bucket: Any, training_inputs: Path, tmp_path: Path
) -> None:
    """Two routes to the bucket, each the project's own train stage against a real `mlflow server`:

    - proxied: the server writes to its --artifacts-destination; the client holds no cloud
      credentials;
    - direct: the experiment's artifact location is the bucket (the project's
      MLFLOW_ARTIFACT_LOCATION, what CI sets); the client writes and reads with its own credentials.
    """
    trainee = render(tmp_path, cloud_provider=project.cloud)
    git_init(trainee)
    for relative in TRAINING_INPUTS:
        source, target = training_inputs / relative, trainee / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target) if source.is_dir() else shutil.copyfile(source, target)
    package = trainee.name.replace("-", "_")
    url, emulator, bucket, prefix = mlflow_on_bucket(project.cloud)
    python = str(project.venv / "bin" / "python")
    base = {**project_command_env(project.venv), "MLFLOW_TRACKING_URI": url, "PYTHONPATH": str(trainee / "src")}
    direct = f"direct-{project.cloud}"
    routes = {
        "proxied": (prefix, base),
        "direct": (
            direct,
            {
                **base,
                **emulator.mlflow_server_env(),
                "MLFLOW_ARTIFACT_LOCATION": emulator.artifacts_destination(bucket, direct),
            },
        ),
    }
    registrations = []
    for route, (where, env) in routes.items():
        if route == "direct":
            # Its own experiment (an artifact location is fixed when the experiment is created)
            # and its own registered model.
            params = trainee / "params.yaml"
            text = re.sub(r"(?m)^(\s*experiment: )(\S+)", r"\g<1>\g<2>-direct", params.read_text())
            params.write_text(re.sub(r"(?m)^(\s*name: )(\S+)", r"\g<1>\g<2>_direct", text, count=1))
        done = subprocess.run(
            [python, "-m", f"{package}.train"], cwd=trainee, env=clean_env(env), capture_output=True, text=True
        )
        assert done.returncode == 0, f"{route}: " + done.stdout[-3000:] + done.stderr[-3000:]
        keys = emulator.list_objects(bucket, where)
        assert any(key.endswith("/artifacts/MLmodel") for key in keys), f"{route}: no model in {bucket}/{where}"
        assert any(key.endswith(".skops") for key in keys), f"{route}: {sorted(keys)}"
        registrations.append(str(trainee / "models" / f"registration-{route}.json"))
        shutil.copyfile(trainee / "models" / "registration.json", registrations[-1])

    # A fresh process, by alias only: what serving and promotion do.
    loaded = subprocess.run(
        [python, "-c", LOAD_BY_ALIAS, *registrations],
        cwd=trainee,
        env=clean_env(routes["direct"][1]),
        capture_output=True,
        text=True,
    )
    assert loaded.returncode == 0, loaded.stdout[-3000:] + loaded.stderr[-3000:]
    assert loaded.stdout.count("loaded") == 2, loaded.stdout
