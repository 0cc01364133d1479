"""Helpers of the disaster-recovery drill test (tests/test_dr_drill.py).

`replicate` stands in for the cloud's own replication (S3 cross-region replication, the Storage
Transfer job, GZRS): it copies every object of the primary bucket to the replica bucket, with
fsspec in the project's environment (s3fs, gcsfs and adlfs come with dvc-s3, dvc-gs, dvc-azure).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from helpers.storage import AZURITE_ACCOUNT, AzureEmulator, Emulator, GcsEmulator, S3Emulator

COPY = """
import json, sys
import fsspec
source, target = json.loads(sys.argv[1]), json.loads(sys.argv[2])
src = fsspec.filesystem(source["protocol"], **source["options"])
dst = fsspec.filesystem(target["protocol"], **target["options"])
copied = 0
for path in src.find(source["path"]):
    relative = path[len(source["path"]):].lstrip("/")
    with src.open(path, "rb") as handle:
        data = handle.read()
    with dst.open(f"{target['path']}/{relative}", "wb") as handle:
        handle.write(data)
    copied += 1
print(copied)
"""


def fsspec_location(emulator: Emulator, bucket: str, prefix: str) -> dict[str, Any]:
    """How fsspec reaches `bucket/prefix` of an emulator."""
    if isinstance(emulator, S3Emulator):
        options = {
            "key": emulator.key_id,
            "secret": emulator.secret,
            "client_kwargs": {"endpoint_url": emulator.endpoint, "region_name": emulator.region},
        }
        return {"protocol": "s3", "options": options, "path": f"{bucket}/{prefix}"}
    if isinstance(emulator, GcsEmulator):
        return {
            "protocol": "gcs",
            "options": {"endpoint_url": emulator.endpoint, "token": "anon"},
            "path": f"{bucket}/{prefix}",
        }
    if isinstance(emulator, AzureEmulator):
        options = {"connection_string": emulator.connection_string(), "account_name": AZURITE_ACCOUNT}
        return {"protocol": "az", "options": options, "path": f"{bucket}/{prefix}"}
    raise TypeError(emulator)


def replicate(python: Path, source: dict[str, Any], target: dict[str, Any], env: dict[str, str]) -> int:
    """Copy every object under `source` to `target`; returns how many."""
    done = subprocess.run(
        [str(python), "-c", COPY, json.dumps(source), json.dumps(target)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return int(done.stdout.strip().splitlines()[-1])


def backup_env(emulator: Emulator) -> dict[str, str]:
    """The environment through which `make backup` (fsspec) reaches the emulator's backup bucket."""
    if isinstance(emulator, S3Emulator):
        return {
            "AWS_ACCESS_KEY_ID": emulator.key_id,
            "AWS_SECRET_ACCESS_KEY": emulator.secret,
            "AWS_ENDPOINT_URL_S3": emulator.endpoint,
            "AWS_DEFAULT_REGION": emulator.region,
        }
    if isinstance(emulator, GcsEmulator):
        return {"STORAGE_EMULATOR_HOST": emulator.endpoint, "GOOGLE_CLOUD_PROJECT": "test"}
    if isinstance(emulator, AzureEmulator):
        return {"AZURE_STORAGE_CONNECTION_STRING": emulator.connection_string()}
    raise TypeError(emulator)
