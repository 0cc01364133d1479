"""MLflow plumbing shared by train, evaluate, the report and promotion."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .settings import Settings

CHALLENGER = "challenger"
CHAMPION = "champion"
REGISTRATION = "models/registration.json"

# Telemetry off by default: projects run in CI and on laptops that should not phone home.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


def connect(cfg: Settings) -> Any:
    """Point MLflow at the configured store and return a client; creates the experiment once."""
    import mlflow

    # Read before set_tracking_uri, which exports MLFLOW_TRACKING_URI and so changes the answer.
    artifact_location = cfg.artifact_location
    mlflow.set_tracking_uri(cfg.tracking_uri)
    client = mlflow.MlflowClient()
    if client.get_experiment_by_name(cfg.experiment) is None:
        client.create_experiment(cfg.experiment, artifact_location=artifact_location)
    mlflow.set_experiment(cfg.experiment)
    return client


def file_md5(path: Path) -> str:
    """The hash DVC 3 records for a file (plain MD5 of its bytes): lets lineage tags match dvc.lock."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dvc_hashes(cfg: Settings, paths: list[str]) -> dict[str, str]:
    """Lineage tags: the raw data version from its .dvc file, and the hashes of the stage inputs."""
    import yaml

    data = cfg.section("data")
    tags: dict[str, str] = {}
    dvc_file = cfg.path(f"{data['raw']}.dvc")
    if dvc_file.is_file():
        out = yaml.safe_load(dvc_file.read_text(encoding="utf-8"))["outs"][0]
        tags["dvc.data.raw.md5"] = str(out["md5"])
    for relative in paths:
        tags[f"dvc.{relative}.md5"] = file_md5(cfg.path(relative))
    return tags


def read_registration(cfg: Settings) -> dict[str, Any]:
    path = cfg.path(REGISTRATION)
    if not path.is_file():
        raise FileNotFoundError(f"{REGISTRATION} is missing: run the train stage (make pipeline)")
    return dict(json.loads(path.read_text(encoding="utf-8")))
