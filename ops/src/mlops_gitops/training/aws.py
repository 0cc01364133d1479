"""SageMaker training jobs with boto3 (`create_training_job` and its waiter; no SageMaker SDK).

Spot: `EnableManagedSpotTraining`, `MaxWaitTimeInSeconds` >= `MaxRuntimeInSeconds`, and a
`CheckpointConfig` that SageMaker keeps in sync with /opt/ml/checkpoints across interruptions.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from . import Backend as Base
from . import Job, Outcome, TrainingError

CHECKPOINT_DIR = "/opt/ml/checkpoints"  # SageMaker uploads this folder to CheckpointConfig.S3Uri
STATES = {"InProgress": "running", "Stopping": "running", "Completed": "completed", "Failed": "failed"}


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise TrainingError("boto3 is not installed: `uv sync --extra training` installs the launcher's SDK") from None
    return boto3


def _split(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    return parsed.netloc, parsed.path.lstrip("/")


class Backend(Base):
    name = "sagemaker"
    scheme = "s3://"
    default_instance = "ml.m5.xlarge"

    @property
    def region(self) -> str:
        # In the job: SageMaker's own AWS_REGION, else the launcher's TRAINING_REGION.
        return self.env.get("AWS_REGION") or self.env.get("AWS_DEFAULT_REGION") or self.env.get("TRAINING_REGION", "")

    def check(self) -> None:
        if not self.region:
            raise TrainingError("AWS_REGION is not set: the region of the project's SageMaker and bucket (CI sets it)")
        _boto3()

    def job_env(self) -> dict[str, str]:
        return {"TRAINING_REGION": self.region}  # AWS_* names are left to SageMaker

    def checkpoint_env(self, job: Job) -> dict[str, str]:
        return {"TRAINING_CHECKPOINT_DIR": CHECKPOINT_DIR}  # SageMaker syncs it: no URL for the entry point

    def client(self, service: str) -> Any:
        return _boto3().client(service, region_name=self.region or None)

    def request(self, job: Job) -> dict[str, Any]:
        """CreateTrainingJob's parameters, checked against botocore's service model."""
        settings = job.settings
        stopping = {"MaxRuntimeInSeconds": settings.max_runtime_minutes * 60}
        request: dict[str, Any] = {
            "TrainingJobName": job.name,
            "RoleArn": job.role,
            "AlgorithmSpecification": {
                "TrainingImage": job.image,
                "TrainingInputMode": "File",
                "ContainerEntrypoint": job.command[:1],
                "ContainerArguments": job.command[1:],
            },
            # SageMaker's own model.tar.gz (of an empty /opt/ml/model) lands here; the entry point
            # writes the stage's outputs next to it.
            "OutputDataConfig": {"S3OutputPath": f"{job.output_url}/sagemaker"},
            "ResourceConfig": {"InstanceType": job.instance_type, "InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": stopping,
            "Environment": dict(job.env),
            "EnableManagedSpotTraining": settings.spot,
            "Tags": [{"Key": key, "Value": value} for key, value in job.labels.items()],
        }
        if settings.spot:
            stopping["MaxWaitTimeInSeconds"] = settings.max_wait_minutes * 60
            request["CheckpointConfig"] = {"S3Uri": job.checkpoint_url, "LocalPath": CHECKPOINT_DIR}
        validate(request)
        return request

    def submit(self, job: Job) -> None:
        self.client("sagemaker").create_training_job(**self.request(job))
        job.console_url = (
            f"https://{self.region}.console.aws.amazon.com/sagemaker/home?region={self.region}#/jobs/{job.name}"
        )

    def status(self, job: Job) -> Outcome:
        found = self.client("sagemaker").describe_training_job(TrainingJobName=job.name)
        state = STATES.get(found["TrainingJobStatus"], "stopped")
        reason = found.get("FailureReason") or ""
        if state == "stopped" and found.get("SecondaryStatus") == "MaxWaitTimeExceeded":
            reason = "spot capacity not found within train.max_wait_minutes"
        return Outcome(state, reason)

    def wait(self, job: Job, timeout: float) -> Outcome:
        from botocore.exceptions import WaiterError

        delay = max(int(self.poll_seconds), 1)
        waiter = self.client("sagemaker").get_waiter("training_job_completed_or_stopped")
        config = {"Delay": delay, "MaxAttempts": math.ceil(timeout / delay) + 1}
        with contextlib.suppress(WaiterError):  # a Failed job or the deadline: the status says which
            waiter.wait(TrainingJobName=job.name, WaiterConfig=config)
        return self.status(job)

    def stop(self, job: Job) -> None:
        if self.status(job).state == "running":
            self.client("sagemaker").stop_training_job(TrainingJobName=job.name)

    def put(self, local: Path, url: str) -> None:
        bucket, key = _split(url)
        self.client("s3").upload_file(str(local), bucket, key)

    def get_tree(self, url: str, dest: Path) -> list[str]:
        bucket, prefix = _split(url.rstrip("/") + "/")
        s3, found = self.client("s3"), []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(prefix) :]
                (dest / relative).parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, item["Key"], str(dest / relative))
                found.append(relative)
        return found


def validate(request: dict[str, Any]) -> None:
    """botocore's own validation of CreateTrainingJob (types, required members, ranges), offline."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("sagemaker")
    report = ParamValidator().validate(request, model.operation_model("CreateTrainingJob").input_shape)
    if report.has_errors():
        first = report.generate_report().splitlines()[-1].strip()
        raise TrainingError(f"the SageMaker request is invalid: {first}")
