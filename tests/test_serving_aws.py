"""mlops_gitops.serving_aws against moto's SageMaker (create_model, create_endpoint_config,
create_endpoint, describe_*), in this environment (moto, boto3; the module imports nothing else).

moto has no update_endpoint: the break-glass request is captured and checked by a CONTRACT test
with botocore's own validation against the SageMaker service model.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from mlops_gitops import serving_aws  # noqa: E402

REGION = "eu-west-1"
ENDPOINT = "acme-production"
ROLE = "arn:aws:iam::123456789012:role/acme-serving"
REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/model"


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An endpoint as terraform/aws/serving leaves it: model <name>-v2-..., config, variant main."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        client = boto3.client("sagemaker", region_name=REGION)
        model = serving_aws.model_name(ENDPOINT, "v2-bbbbbbb")
        client.create_model(
            ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": f"{REPOSITORY}:v2-bbbbbbb"},
            EnableNetworkIsolation=True,
        )  # fmt: skip
        client.create_endpoint_config(
            EndpointConfigName=f"{ENDPOINT}-20261129",
            ProductionVariants=[
                {"VariantName": "main", "ModelName": model, "InitialInstanceCount": 2, "InstanceType": "ml.m5.large"}
            ],
        )
        client.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"{ENDPOINT}-20261129")
        yield client


def test_describe_names_the_config_variant_model_and_image_after_an_apply(sagemaker: Any) -> None:
    found = serving_aws.describe(sagemaker, ENDPOINT)
    assert found == {
        "endpoint": ENDPOINT,
        "status": "InService",
        "config": f"{ENDPOINT}-20261129",
        "variant": "main",
        "model": f"{ENDPOINT}-v2-bbbbbbb",
        "image": f"{REPOSITORY}:v2-bbbbbbb",
    }


def test_describe_of_a_missing_endpoint_is_one_line(sagemaker: Any) -> None:
    with pytest.raises(serving_aws.AwsServingError, match=r"^SageMaker endpoint nope cannot be described \("):
        serving_aws.describe(sagemaker, "nope")


def test_rollback_recreates_the_previous_model_and_config_then_updates_the_endpoint(sagemaker: Any) -> None:
    sent: list[dict[str, Any]] = []
    sagemaker.update_endpoint = lambda **request: sent.append(request)  # moto lacks update_endpoint
    done = serving_aws.rollback(sagemaker, ENDPOINT, "v1-aaaaaaa", 10)
    assert done["image"] == f"{REPOSITORY}:v1-aaaaaaa" and done["from"] == f"{ENDPOINT}-20261129"
    model = sagemaker.describe_model(ModelName=f"{ENDPOINT}-v1-aaaaaaa")
    assert model["PrimaryContainer"]["Image"] == f"{REPOSITORY}:v1-aaaaaaa"
    assert model["ExecutionRoleArn"] == ROLE  # (moto does not keep EnableNetworkIsolation: not asserted)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=done["config"])
    (variant,) = config["ProductionVariants"]
    assert variant["VariantName"] == "main" and variant["ModelName"] == f"{ENDPOINT}-v1-aaaaaaa"
    assert variant["InitialInstanceCount"] == 2 and variant["InstanceType"] == "ml.m5.large"
    (request,) = sent
    assert request["EndpointConfigName"] == done["config"] and request["EndpointName"] == ENDPOINT
    alarms = request["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert alarms == [{"AlarmName": f"{ENDPOINT}-5xx"}, {"AlarmName": f"{ENDPOINT}-latency-p95"}]
    # A second rollback to the same image reuses the model and config it created.
    assert serving_aws.rollback(sagemaker, ENDPOINT, "v1-aaaaaaa", 10)["config"] == done["config"]
    with pytest.raises(serving_aws.AwsServingError, match="already runs"):
        serving_aws.rollback(sagemaker, ENDPOINT, "v2-bbbbbbb", 10)


def test_update_endpoint_request_is_valid_for_the_sagemaker_service_model_contract() -> None:
    """CONTRACT test: moto cannot run update_endpoint, so the exact request `deploy rollback`
    sends is validated by botocore against the SageMaker service model it ships."""
    import botocore.session
    from botocore.exceptions import ParamValidationError
    from botocore.validate import validate_parameters

    operation = botocore.session.get_session().get_service_model("sagemaker").operation_model("UpdateEndpoint")
    request = serving_aws.rollback_request(ENDPOINT, f"{ENDPOINT}-rollback-v1-aaaaaaa", ENDPOINT, 10)
    validate_parameters(request, operation.input_shape)  # raises on any unknown key, type or enum
    policy = request["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"]["Type"] == "CANARY"
    assert policy["TrafficRoutingConfiguration"]["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": 10}
    broken = {**request, "DeploymentConfig": {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {}}}}
    with pytest.raises(ParamValidationError):  # the validation itself can fail
        validate_parameters(broken, operation.input_shape)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sagemaker://acme-staging", ("acme-staging", None)),
        (
            f"https://runtime.sagemaker.{REGION}.amazonaws.com/endpoints/acme-staging/invocations",
            ("acme-staging", REGION),
        ),
        ("http://127.0.0.1:5001", None),
    ],
)
def test_sagemaker_urls_name_the_endpoint(url: str, expected: Any) -> None:
    assert serving_aws.endpoint_of(url) == expected


def test_invoke_calls_sagemaker_runtime_with_the_json_body(sagemaker: Any) -> None:
    import requests

    answer = '{"predictions": [0, 1]}'
    queued = {"region": REGION, "results": [{"Body": answer, "ContentType": "application/json"}]}
    requests.post("http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results", json=queued, timeout=5)
    assert serving_aws.invoke(ENDPOINT, b'{"dataframe_split": {"columns": ["a"], "data": [[1], [2]]}}', REGION) == (
        200,
        answer,
    )
