"""pytest plugin: one real `mlflow server` on 127.0.0.1 for the whole test session.

Starting a server costs 20-30 s here, so every test that needs one shares this one; tests keep
apart by using their own model and experiment names.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.project import QUIET_ENV


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command(mlflow: Path, port: int, root: Path, artifacts: str) -> list[str]:
    """`mlflow server` on loopback with one worker and a SQLite store in `root`, artifacts proxied."""
    return [
        str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}", "--artifacts-destination", artifacts,
    ]  # fmt: skip


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"server not up after {seconds}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def mlflow_server(shared_env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a fresh tracking + registry server (SQLite store, artifacts proxied by the server)."""
    env_dir = shared_env("3.11")
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = root / "server.log"
    env = {**os.environ, **QUIET_ENV, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)
    with log.open("w") as output:
        process = subprocess.Popen(
            server_command(env_dir / "bin/mlflow", port, root, str(root / "artifacts")),
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/health", process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
