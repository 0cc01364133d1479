"""Azure ML command jobs with azure-ai-ml's `command()` on serverless compute.

Spot: `QueueSettings(job_tier="Spot")`; Azure ML requeues an evicted spot job itself, and the
launcher cancels it once train.max_wait_minutes have passed. The workspace exists only when the
project's Terraform has `training_backend_enabled = true` (TRAINING_WORKSPACE).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from . import Backend as Base
from . import Job, Outcome, TrainingError

STATES = {"Completed": "completed", "Failed": "failed", "Canceled": "stopped", "CancelRequested": "stopped"}
WORKSPACE_ID = re.compile(
    r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)/providers/"
    r"Microsoft\.MachineLearningServices/workspaces/(?P<name>[^/]+)",
    re.IGNORECASE,
)


def _sdk() -> Any:
    # The SDK warns on every use of an "experimental" class (QueueSettings): noise around the one line.
    logging.getLogger("azure.ai.ml").setLevel(logging.ERROR)
    try:
        import azure.ai.ml
    except ImportError:
        raise TrainingError(
            "azure-ai-ml is not installed: `uv sync --extra training` installs the launcher's SDK"
        ) from None
    return azure.ai.ml


class Backend(Base):
    name = "azureml"
    scheme = "az://"
    default_instance = "Standard_DS3_v2"

    def workspace(self) -> tuple[str, str, str]:
        """(subscription, resource group, name): TRAINING_WORKSPACE is a name or the workspace's id."""
        value = self.env.get("TRAINING_WORKSPACE", "").strip()
        found = WORKSPACE_ID.fullmatch(value.rstrip("/"))
        if found:
            return found["subscription"], found["group"], found["name"]
        return self.env.get("AZURE_SUBSCRIPTION_ID", ""), self.env.get("AZURE_RESOURCE_GROUP", ""), value

    def check(self) -> None:
        subscription, group, name = self.workspace()
        if not name:
            raise TrainingError(
                "TRAINING_WORKSPACE is not set: the Azure ML workspace, created when the project's Terraform "
                "has training_backend_enabled = true (docs/training.md)"
            )
        for key, value in (("AZURE_SUBSCRIPTION_ID", subscription), ("AZURE_RESOURCE_GROUP", group)):
            if not value:
                raise TrainingError(f"{key} is not set: it locates the Azure ML workspace '{name}'")
        _sdk()

    def request(self, job: Job) -> Any:
        """The `command()` job (azure-ai-ml entities: its REST form is what is sent)."""
        import shlex

        ml = _sdk()
        from azure.ai.ml.entities import Environment, ManagedIdentityConfiguration, QueueSettings

        built = ml.command(
            name=job.name,
            display_name=job.name,
            experiment_name=job.labels.get("project", job.name),
            command=shlex.join(job.command),
            environment=Environment(image=job.image),
            environment_variables=dict(job.env),
            identity=ManagedIdentityConfiguration(client_id=job.role),
            instance_type=job.instance_type,  # no compute: serverless
            instance_count=1,
            timeout=job.settings.max_runtime_minutes * 60,
            tags=dict(job.labels),
        )
        built.queue_settings = QueueSettings(job_tier="Spot" if job.settings.spot else "Standard")
        return built

    def client(self) -> Any:
        ml = _sdk()
        from azure.identity import DefaultAzureCredential

        subscription, group, name = self.workspace()
        return ml.MLClient(DefaultAzureCredential(), subscription, group, name)

    def submit(self, job: Job) -> None:
        created = self.client().jobs.create_or_update(self.request(job))
        job.console_url = str(created.studio_url or "")

    def status(self, job: Job) -> Outcome:
        found = self.client().jobs.get(job.name)
        return Outcome(
            STATES.get(str(found.status), "running"), "" if found.status == "Completed" else str(found.status)
        )

    def stop(self, job: Job) -> None:
        if self.status(job).state == "running":
            self.client().jobs.begin_cancel(job.name)
