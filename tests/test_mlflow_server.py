"""The session's tracking server is real: it stores and returns registry state over REST."""

import json
import urllib.request


def call(url: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode() if body else None, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"{}")


def test_session_server_keeps_registry_state(mlflow_server: str) -> None:
    api = f"{mlflow_server}/api/2.0/mlflow/registered-models"
    call(f"{api}/create", {"name": "server-smoke"})
    found = call(f"{api}/get?name=server-smoke")
    assert found["registered_model"]["name"] == "server-smoke"
