"""Vertex AI custom jobs with google-cloud-aiplatform's `CustomJob` (the JobService API).

Spot: `Scheduling.strategy` SPOT with `restart_job_on_worker_restart`, so a preempted worker
restarts the job; Vertex AI has no spot wait limit of its own, so the launcher cancels the job once
train.max_wait_minutes have passed. Checkpoints: Vertex AI mounts the project's bucket at /gcs/.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from . import Backend as Base
from . import Job, Outcome, TrainingError

STATES = {
    "JOB_STATE_SUCCEEDED": "completed",
    "JOB_STATE_FAILED": "failed",
    "JOB_STATE_CANCELLED": "stopped",
    "JOB_STATE_CANCELLING": "stopped",
    "JOB_STATE_EXPIRED": "failed",
}


def _types() -> Any:
    try:
        from google.cloud import aiplatform_v1
    except ImportError:
        raise TrainingError(
            "google-cloud-aiplatform is not installed: `uv sync --extra training` installs the launcher's SDK"
        ) from None
    return aiplatform_v1


class Backend(Base):
    name = "vertex"
    scheme = "gs://"
    default_instance = "n1-standard-4"

    @property
    def project(self) -> str:
        return self.env.get("GCP_PROJECT_ID", "")

    @property
    def region(self) -> str:
        return self.env.get("GCP_REGION", "")

    def check(self) -> None:
        for key, value in (("GCP_PROJECT_ID", self.project), ("GCP_REGION", self.region)):
            if not value:
                raise TrainingError(f"{key} is not set: the project's Vertex AI {key[4:].lower()} (CI sets it)")
        _types()

    def image(self, repository: str, tag: str) -> str:
        return f"{repository.rstrip('/')}/training:{tag}"  # the repository holds images by name

    def checkpoint_env(self, job: Job) -> dict[str, str]:
        # Cloud Storage FUSE: the checkpoint prefix is a folder in the job, kept across restarts.
        parsed = urlparse(job.checkpoint_url or "")
        return {"TRAINING_CHECKPOINT_DIR": f"/gcs/{parsed.netloc}{parsed.path}"}

    def request(self, job: Job) -> Any:
        """The `CustomJob` message (aiplatform_v1 types: unknown fields or wrong types raise)."""
        v1 = _types()
        settings = job.settings
        scheduling = v1.Scheduling(
            timeout=f"{settings.max_runtime_minutes * 60}s",
            restart_job_on_worker_restart=settings.spot,
            strategy=v1.Scheduling.Strategy.SPOT if settings.spot else v1.Scheduling.Strategy.STANDARD,
        )
        container = v1.ContainerSpec(
            image_uri=job.image,
            command=job.command,
            env=[v1.EnvVar(name=key, value=value) for key, value in job.env.items()],
        )
        pool = v1.WorkerPoolSpec(
            machine_spec=v1.MachineSpec(machine_type=job.instance_type), replica_count=1, container_spec=container
        )
        spec = v1.CustomJobSpec(worker_pool_specs=[pool], scheduling=scheduling, service_account=job.role)
        return v1.CustomJob(display_name=job.name, job_spec=spec, labels=job.labels)

    def client(self) -> Any:
        v1 = _types()
        return v1.JobServiceClient(client_options={"api_endpoint": f"{self.region}-aiplatform.googleapis.com"})

    def submit(self, job: Job) -> None:
        parent = f"projects/{self.project}/locations/{self.region}"
        created = self.client().create_custom_job(parent=parent, custom_job=self.request(job))
        job.handle = created.name  # projects/<n>/locations/<region>/customJobs/<id>
        job_id = created.name.rsplit("/", 1)[-1]
        job.console_url = (
            f"https://console.cloud.google.com/vertex-ai/locations/{self.region}/training/{job_id}/cpu"
            f"?project={self.project}"
        )

    def status(self, job: Job) -> Outcome:
        found = self.client().get_custom_job(name=job.handle)
        state = STATES.get(found.state.name, "running")
        return Outcome(state, found.error.message if found.error else "")

    def stop(self, job: Job) -> None:
        if job.handle and self.status(job).state == "running":
            self.client().cancel_custom_job(name=job.handle)
