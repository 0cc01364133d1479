"""`make dr-drill` in a generated project: backup, wipe, restore, and every figure compared.

One project is rendered and its pipeline run once (a registered version, made champion, its data
pushed); every case below reuses it. The drill restores into a scratch SQLite store and a scratch
DVC workspace whose only reachable remote is the replica, so the project itself is never wiped.

- locally: the replica is the folder `.dvc-storage-dr` (remote `local-dr`), the backup a folder;
- per cloud, against the storage emulators: the project's committed `cloud` and `cloud-dr`
  remotes (of that cloud's render), the primary and replica buckets in the emulator (on Azure a
  second Azurite: GZRS keeps the container's name in the secondary), the backup in a bucket.

In the cloud the replica is filled by the cloud's own replication (S3 replication, the Storage
Transfer job, GZRS). Nothing here can run that: the tests stand in for it by copying the primary
bucket (or folder) to the replica after `make push`. So this proves the drill and the restore,
not the cloud's replication (whose configuration terraform/<cloud> holds and checks).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from helpers.dr import backup_env, fsspec_location, replicate
from helpers.project import project_command_env, render
from helpers.serving import Trained, own_lines, trained_project
from helpers.storage import AzureEmulator, committed_remote, split_url

pytestmark = pytest.mark.slow

CLOUDS = ("aws", "gcp", "azure")
FIGURES = ("RTO:", "RPO:", "predictions identical:", "lineage identical: yes", "data identical:")


def check_passed(done: subprocess.CompletedProcess[str]) -> str:
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    for figure in FIGURES:
        assert figure in out, out
    rows = re.search(r"predictions identical: (\d+)/(\d+)", out)
    assert rows and rows.group(1) == rows.group(2) and int(rows.group(2)) > 50, out
    files = re.search(r"data identical: (\d+)/(\d+) tracked files", out)
    assert files and files.group(1) == files.group(2) and int(files.group(2)) >= 5, out
    assert "version numbers preserved" in out
    return out


@pytest.fixture(scope="module")
def trained(shared_env: Any, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """A project after `make pipeline`, its version made champion, its data in the local remote."""
    project = trained_project(tmp_path_factory.mktemp("dr"), shared_env("3.11"))
    env = project_command_env(project.venv)
    subprocess.run(["uv", "run", "dvc", "push", "-q"], cwd=project.path, env=env, check=True, capture_output=True)
    return project


def test_local_drill_passes_and_prints_the_figures(trained: Trained) -> None:
    shutil.copytree(trained.path / ".dvc-storage", trained.path / ".dvc-storage-dr", dirs_exist_ok=True)
    started = time.monotonic()
    out = check_passed(trained.make("dr-drill"))
    print(f"\nlocal drill ({time.monotonic() - started:.1f} s):\n{out}")
    # The second backup of the drill had nothing new to copy.
    again = trained.make("backup")
    assert again.returncode == 0 and "nothing new since snapshot" in again.stdout and "nothing copied" in again.stdout


def test_a_corrupt_byte_in_the_replica_fails_the_drill_in_one_line(trained: Trained) -> None:
    replica = trained.path / ".dvc-storage-dr"
    shutil.rmtree(replica, ignore_errors=True)
    shutil.copytree(trained.path / ".dvc-storage", replica)
    victim = max((p for p in replica.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.chmod(0o644)
    victim.write_bytes(bytes(data))
    try:
        done = trained.make("dr-drill")
        assert done.returncode != 0
        errors = own_lines(done.stderr)
        assert len(errors) == 1 and errors[0].startswith("dr drill: "), done.stderr
        assert "replica" in errors[0], errors
    finally:
        shutil.rmtree(replica)


def test_bad_inputs_are_one_line_and_change_nothing(trained: Trained) -> None:
    done = trained.make("restore")
    assert done.returncode != 0 and own_lines(done.stderr) == [
        "dr restore: FROM is missing: make restore FROM=<backup URL, or its snapshots/<id>> (`make backup` prints it)"
    ]
    before = (trained.path / "mlflow.db").read_bytes()
    done = trained.make("restore", "FROM=.registry-backup")  # into the project's own, non-empty registry
    (line,) = own_lines(done.stderr)
    assert done.returncode != 0 and "is not empty" in line and "nothing was changed" in line
    assert (trained.path / "mlflow.db").read_bytes() == before
    done = trained.make("backup", env={"BACKUP_URL": ""})
    assert done.returncode != 0 and own_lines(done.stderr)[0].startswith("dr backup: BACKUP_URL is empty")


@pytest.fixture(scope="module")
def replica_azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzureEmulator]:
    """The GZRS secondary: a second Azurite, same account and container names, other endpoint."""
    emulator = AzureEmulator(tmp_path_factory.mktemp("azurite-secondary"))
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.mark.parametrize("cloud", CLOUDS)
def test_drill_against_the_storage_emulators(
    cloud: str,
    trained: Trained,
    storage_emulator: Any,
    replica_azurite: AzureEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # The trained project with this cloud's committed remotes (the rest of a render is the same).
    path = tmp_path_factory.mktemp(f"dr-{cloud}") / trained.path.name
    shutil.copytree(trained.path, path, ignore=shutil.ignore_patterns(".dvc-storage-dr", ".registry-backup"))
    rendered = render(tmp_path_factory.mktemp(f"render-{cloud}"), cloud_provider=cloud)
    shutil.copyfile(rendered / ".dvc" / "config", path / ".dvc" / "config")
    project = Trained(path, trained.venv)
    dvc = project.venv / "bin" / "dvc"

    primary = storage_emulator(cloud)
    secondary = replica_azurite if cloud == "azure" else primary
    source_bucket, source_prefix = split_url(committed_remote(path, "cloud")["url"])
    replica_bucket, replica_prefix = split_url(committed_remote(path, "cloud-dr")["url"])
    primary.create_bucket(source_bucket)
    secondary.create_bucket(replica_bucket)
    primary.remote().apply(path, dvc, "cloud")
    secondary.remote().apply(path, dvc, "cloud-dr")
    pushed = project.make("push", env=primary.remote().env)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    copied = replicate(
        project.venv / "bin" / "python",
        fsspec_location(primary, source_bucket, source_prefix),
        fsspec_location(secondary, replica_bucket, replica_prefix),
        project.env(),
    )
    assert copied >= 5

    primary.create_bucket("dr-backups")
    scheme = {"aws": "s3", "gcp": "gs", "azure": "azure"}[cloud]
    env = {**backup_env(primary), **primary.remote().env}
    started = time.monotonic()
    done = project.make("dr-drill", "DR_REMOTE=cloud-dr", f"BACKUP_URL={scheme}://dr-backups/registry", env=env)
    out = check_passed(done)
    print(f"\n{cloud} drill ({time.monotonic() - started:.1f} s):\n{out}")
    assert any(key.startswith("registry/snapshots/") for key in primary.list_objects("dr-backups", "registry/"))
