"""SageMaker serving, read and moved with boto3 (AWS projects pin it; imported only on AWS paths).

- `describe()`: after an apply, what the endpoint really runs (endpoint config, variant "main",
  model, image), recorded as the deploy evidence;
- `invoke()`: the smoke test's call for a `sagemaker://<endpoint>` URL (SigV4 through boto3);
- `rollback()`: the break-glass `mlops-gitops deploy rollback` on AWS. Terraform replaces the
  model and endpoint config of a release (create_before_destroy), so the previous ones are gone:
  the model of the previous image and an endpoint config copying the current one with that model
  are created (kept if they exist), then `update_endpoint` moves the endpoint back with the same
  guardrails as Terraform's: a blue/green canary and auto-rollback on the two alarms.

The names are terraform/aws/serving's: endpoint `<project>-<env>`, variant `main`, alarms
`<name>-5xx` and `<name>-latency-p95`, model `<name[:48]>-<image tag>`.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import CommandError

VARIANT = "main"  # stable: blue/green updates need the same variant name in both configs
URL_SCHEME = "sagemaker://"
# terraform output `url`: https://runtime.sagemaker.<region>.amazonaws.com/endpoints/<name>/invocations
RUNTIME_URL = re.compile(
    r"^https://runtime\.sagemaker\.([a-z0-9-]+)\.amazonaws\.com/endpoints/([^/]+)(/invocations)?/?$"
)
CANARY_WAIT_SECONDS = 300
TERMINATION_WAIT_SECONDS = 300
MAX_EXECUTION_SECONDS = 3600


class AwsServingError(CommandError):
    """The endpoint is missing or cannot be moved; one line naming it and the fix."""


def endpoint_of(url: str) -> tuple[str, str | None] | None:
    """(endpoint, region or None) of a sagemaker://<endpoint> or SageMaker runtime URL; None for other URLs."""
    if url.startswith(URL_SCHEME):
        name = url.removeprefix(URL_SCHEME).strip("/")
        return (name, None) if name else None
    found = RUNTIME_URL.match(url)
    return (found.group(2), found.group(1)) if found else None


def alarms(name: str) -> list[str]:
    return [f"{name}-5xx", f"{name}-latency-p95"]


def model_name(name: str, image_tag: str) -> str:
    return f"{name[:48]}-{image_tag}"


def sagemaker(region: str | None = None) -> Any:
    import boto3

    return boto3.client("sagemaker", region_name=region) if region else boto3.client("sagemaker")


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def describe(client: Any, endpoint: str) -> dict[str, str]:
    """Endpoint, status, endpoint config, variant, model and image that the endpoint runs."""
    from botocore.exceptions import ClientError

    try:
        found = client.describe_endpoint(EndpointName=endpoint)
        config = client.describe_endpoint_config(EndpointConfigName=found["EndpointConfigName"])
    except ClientError as exc:
        raise AwsServingError(
            f"SageMaker endpoint {endpoint} cannot be described ({_code(exc)}): was the serving apply run "
            "in this account and region?"
        ) from None
    variants = {v["VariantName"]: v for v in config["ProductionVariants"]}
    if VARIANT not in variants:
        raise AwsServingError(
            f"endpoint config {config['EndpointConfigName']} has no variant '{VARIANT}' "
            f"({', '.join(variants)}): terraform/aws/serving names it '{VARIANT}'"
        )
    model = variants[VARIANT]["ModelName"]
    try:
        container = client.describe_model(ModelName=model).get("PrimaryContainer", {})
    except ClientError:
        container = {}
    return {
        "endpoint": endpoint,
        "status": str(found.get("EndpointStatus", "")),
        "config": str(config["EndpointConfigName"]),
        "variant": VARIANT,
        "model": str(model),
        "image": str(container.get("Image", "")),
    }


def invoke(endpoint: str, body: bytes, region: str | None = None) -> tuple[int, str]:
    """(HTTP status, body) of invoke_endpoint, as the scoring server's /invocations would answer."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    runtime = boto3.client("sagemaker-runtime", region_name=region) if region else boto3.client("sagemaker-runtime")
    try:
        answer = runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="application/json", Accept="application/json", Body=body
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        status = int(exc.response.get("OriginalStatusCode") or exc.response["ResponseMetadata"]["HTTPStatusCode"])
        return status, str(exc.response.get("OriginalMessage") or error.get("Message") or _code(exc))
    except BotoCoreError as exc:
        raise OSError(str(exc)) from None  # no answer at all: the caller reports it as unreachable
    return 200, answer["Body"].read().decode("utf-8", "replace")


def rollback_request(endpoint: str, config: str, name: str, canary_percent: int) -> dict[str, Any]:
    """The update_endpoint request of a break-glass rollback: Terraform's guardrails, the previous config."""
    return {
        "EndpointName": endpoint,
        "EndpointConfigName": config,
        # The config's own variant properties: a copy of the current one, so the instance count
        # and serverless settings are those Terraform set for this environment.
        "RetainAllVariantProperties": False,
        "DeploymentConfig": {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "CANARY",
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": canary_percent},
                    "WaitIntervalInSeconds": CANARY_WAIT_SECONDS,
                },
                "TerminationWaitInSeconds": TERMINATION_WAIT_SECONDS,
                "MaximumExecutionTimeoutInSeconds": MAX_EXECUTION_SECONDS,
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm} for alarm in alarms(name)]},
        },
    }


def _exists(call: Any, **kwargs: Any) -> bool:
    from botocore.exceptions import ClientError

    try:
        call(**kwargs)
    except ClientError as exc:
        if _code(exc) in ("ValidationException", "ResourceNotFound"):
            return False
        raise
    return True


def rollback(client: Any, endpoint: str, image_tag: str, canary_percent: int) -> dict[str, str]:
    """Move `endpoint` back to the image `image_tag` (the previous version); returns what was sent."""
    current = describe(client, endpoint)
    if current["status"] not in ("InService", "Failed"):
        raise AwsServingError(
            f"endpoint {endpoint} is {current['status']}: wait until it is InService (an update is running; "
            "SageMaker rolls it back itself if an alarm fires)"
        )
    if not current["image"] or ":" not in current["image"].rsplit("/", 1)[-1]:
        raise AwsServingError(
            f"model {current['model']} of {endpoint} names no tagged image: cannot derive the previous one"
        )
    repository = current["image"].rsplit(":", 1)[0]
    image = f"{repository}:{image_tag}"
    if current["image"] == image:
        raise AwsServingError(f"endpoint {endpoint} already runs {image}: nothing to roll back")
    model = model_name(endpoint, image_tag)
    source = client.describe_model(ModelName=current["model"])
    if not _exists(client.describe_model, ModelName=model):
        client.create_model(
            ModelName=model,
            ExecutionRoleArn=source["ExecutionRoleArn"],
            PrimaryContainer={"Image": image},
            EnableNetworkIsolation=bool(source.get("EnableNetworkIsolation", True)),
        )
    config = f"{endpoint[:40]}-rollback-{image_tag}"[:63]
    if not _exists(client.describe_endpoint_config, EndpointConfigName=config):
        base = client.describe_endpoint_config(EndpointConfigName=current["config"])
        variants = [
            {**{k: v for k, v in variant.items() if k not in ("DeployedImages",)}, "ModelName": model}
            for variant in base["ProductionVariants"]
            if variant["VariantName"] == VARIANT
        ]
        extra = {"DataCaptureConfig": base["DataCaptureConfig"]} if base.get("DataCaptureConfig") else {}
        client.create_endpoint_config(EndpointConfigName=config, ProductionVariants=variants, **extra)
    request = rollback_request(endpoint, config, endpoint, canary_percent)
    client.update_endpoint(**request)
    return {"endpoint": endpoint, "config": config, "model": model, "image": image, "from": current["config"]}
