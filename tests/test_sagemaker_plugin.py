"""AWS projects can use the SageMaker tracking server's ARN as MLFLOW_TRACKING_URI."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from helpers.project import render

PROBE = """
from importlib.metadata import entry_points
from mlflow.tracking._tracking_service.utils import _get_store

names = {e.name: e.value for e in entry_points(group="mlflow.tracking_store")}
assert names.get("arn") == "sagemaker_mlflow.mlflow_sagemaker_store:MlflowSageMakerStore", names
store = _get_store("{arn}")
print(type(store).__module__)
"""


def test_aws_projects_pin_the_plugin_and_it_registers_the_arn_store(tmp_path: Path, shared_env) -> None:
    project = render(tmp_path, cloud_provider="aws")
    deps = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("sagemaker-mlflow==") for d in deps)
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/platform-mlflow"
    # No network: building the store needs only credentials to exist, not to be valid.
    env = {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_EC2_METADATA_DISABLED": "true",
        "PATH": "/usr/bin",
    }
    done = subprocess.run(
        [str(shared_env("3.11") / "bin/python"), "-c", PROBE.replace("{arn}", arn)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "sagemaker_mlflow.mlflow_sagemaker_store"


def test_other_clouds_do_not_carry_the_plugin(tmp_path: Path) -> None:
    for cloud in ("gcp", "azure"):
        project = render(tmp_path / cloud, cloud_provider=cloud)
        deps = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
        assert not any(d.startswith("sagemaker-mlflow") for d in deps)
