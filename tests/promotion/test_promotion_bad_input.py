"""Bad input to `promote apply` against the real tracking server: each case is one clear line on
stderr, exit 1, and the registry exactly as it was (aliases, version tags, descriptions, cards)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.mlflow_server import free_port
from helpers.promotion import DESIRED, EVIDENCE, Driver, Registry, desired_text, registry_for, rendered

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def silent_server() -> Iterator[str]:
    """A loopback server that accepts connections and never answers (a hung tracking server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()


@pytest.fixture(scope="module")
def world(mlflow_server: str, shared_env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    project = rendered(tmp_path_factory.mktemp("bad"), "promotion-bad")
    driver = Driver(shared_env("3.11") / "bin/python", project, mlflow_server)
    registry = registry_for(mlflow_server, project, driver)
    versions = {
        "champion": registry.register(0.6),
        # Trained on a branch whose change of train.py main never received.
        "branch": registry.register(0.9, branch="feature/try", trained_from={"src/pkg/train.py": "1" * 40}),
        "unvalidated": registry.register(0.9, validation=None),
        "worse": registry.register(0.1),
        "foreign": registry.register(0.9, experiment="someone-elses-project"),
        "below_floor": registry.register(-2.0),
        "good": registry.register(0.7),
        "deleted": registry.register(0.8),
    }
    registry.delete(versions["deleted"])
    (project / DESIRED).write_text(desired_text(registry.model, versions["champion"], versions["champion"]))
    code, _, err = driver.run("apply", *EVIDENCE)
    assert code == 0, err
    yield {"project": project, "registry": registry, "driver": driver, "v": versions}
    driver.close()


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


# (name, desired-state text or a function of (model, versions), extra env, extra argv, message)
CASES = [
    ("malformed YAML", lambda m, v: "model: [unclosed\nenvironments: {\n", {}, EVIDENCE, "is not valid YAML"),
    (
        "unknown environment",
        lambda m, v: desired_text(m, v["good"], v["good"]).replace("staging:", "qa:"),
        {},
        EVIDENCE,
        "unknown environment 'qa'",
    ),
    ("version that does not exist", lambda m, v: desired_text(m, v["champion"], "999"), {}, EVIDENCE, "version 999 of"),
    (
        "model that is not this project's",
        lambda m, v: desired_text("another_model", v["good"], v["good"]),
        {},
        EVIDENCE,
        "declares model 'another_model'",
    ),
    (
        "version of another project's model",
        lambda m, v: desired_text(m, v["champion"], v["foreign"]),
        {},
        EVIDENCE,
        "it belongs to another model",
    ),
    (
        "version trained from inputs main does not hold",
        lambda m, v: desired_text(m, v["champion"], v["branch"]),
        {},
        EVIDENCE,
        "was trained from other model inputs than commit",
    ),
    (
        "gate: worse than the champion",
        lambda m, v: desired_text(m, v["champion"], v["worse"]),
        {},
        EVIDENCE,
        "worse than champion",
    ),
    (
        "gate: validate stage not passed",
        lambda m, v: desired_text(m, v["unvalidated"], v["champion"]),
        {},
        EVIDENCE,
        "validation.status=missing",
    ),
    (
        "gate: below an absolute floor",
        lambda m, v: desired_text(m, v["below_floor"], v["champion"]),
        {},
        EVIDENCE,
        "the floor",
    ),
    (
        "not a version number",
        lambda m, v: desired_text(m, "latest", v["champion"]),
        {},
        EVIDENCE,
        "must be a version number or null",
    ),
    (
        "missing evidence",
        lambda m, v: desired_text(m, v["good"], v["good"]),
        {},
        ["--commit", "0123456"],
        "missing evidence: PR number",
    ),
    (
        "malformed evidence",
        lambda m, v: desired_text(m, v["good"], v["good"]),
        {},
        ["--pr", "seven", "--approvers", "alice", "--commit", "0123456", "--run-url", "local"],
        "is not a positive",
    ),
    (
        "two environments on a deleted version",
        lambda m, v: desired_text(m, v["deleted"], v["deleted"]),
        {},
        EVIDENCE,
        "staging and production: version",
    ),
    (
        "tracking server unreachable",
        lambda m, v: desired_text(m, v["good"], v["good"]),
        {"MLFLOW_TRACKING_URI": "CLOSED"},
        EVIDENCE,
        "is unreachable",
    ),
    (
        "tracking server times out",
        lambda m, v: desired_text(m, v["good"], v["good"]),
        {"MLFLOW_TRACKING_URI": "SILENT", "PROMOTION_TIMEOUT": "1"},
        EVIDENCE,
        "did not answer within 1s",
    ),
]


@pytest.mark.parametrize(("text", "env", "argv", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_changes_nothing(world: dict, silent_server: str, text, env, argv, message: str) -> None:
    project: Path = world["project"]
    registry: Registry = world["registry"]
    env = {k: {"CLOSED": closed_port_url(), "SILENT": silent_server}.get(v, v) for k, v in env.items()}
    (project / DESIRED).write_text(text(registry.model, world["v"]))
    before = registry.snapshot()
    code, out, err = world["driver"].run("apply", *argv, env=env)
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("promote: ") and message in lines[0], err
    assert registry.snapshot() == before
