"""Yours to edit: how the stages write to MLflow. The platform package only reads the registry
(`mlops_gitops.registry`) and moves aliases on promotion."""

from __future__ import annotations

import json
import os
from typing import Any

from mlops_gitops.errors import CommandError
from mlops_gitops.registry import preflight

from . import paths
from .settings import Settings

# Telemetry off by default: projects run in CI and on laptops that should not phone home.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


def start(cfg: Settings) -> Any:
    """Point MLflow at the configured store and its experiment (created once); returns a client."""
    import mlflow

    # Read before set_tracking_uri, which exports MLFLOW_TRACKING_URI and so changes the answer.
    artifact_location = cfg.artifact_location
    if cfg.tracking_uri.startswith(("http://", "https://")):
        preflight(cfg.tracking_uri)  # unreachable, or credentials refused: one line, before any work
    mlflow.set_tracking_uri(cfg.tracking_uri)
    client = mlflow.MlflowClient()
    if client.get_experiment_by_name(cfg.experiment) is None:
        client.create_experiment(cfg.experiment, artifact_location=artifact_location)
    mlflow.set_experiment(cfg.experiment)
    return client


def read_registration(cfg: Settings) -> dict[str, Any]:
    """What train registered: model name, version, run id and metrics."""
    path = cfg.path(paths.REGISTRATION)
    if not path.is_file():
        raise CommandError(f"{paths.REGISTRATION} is missing: run the train stage (make pipeline)")
    return dict(json.loads(path.read_text(encoding="utf-8")))
