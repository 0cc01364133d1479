"""`make ui` of a generated project: a port in use is one line and a failure, checked before MLflow
starts; MLflow's own failure (it exits 0 when its server cannot start) is a failure too."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.project import render


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("ui"))


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_ui(project: Path, *args: str) -> subprocess.CompletedProcess:
    # The timeout guards against a check that lets MLflow start (it would serve until stopped).
    return subprocess.run(
        ["make", "--no-print-directory", "ui", *args], cwd=project, capture_output=True, text=True, timeout=60
    )


def recipe_lines(done: subprocess.CompletedProcess) -> list[str]:
    """What the target printed on stderr, without make's own `make: *** [...] Error 1` trailer."""
    return [line for line in done.stderr.splitlines() if not re.match(r"make(\[\d+\])?: \*\*\*", line)]


def test_a_port_in_use_is_one_line_before_mlflow_starts(project: Path, busy_port: int) -> None:
    done = make_ui(project, f"PORT={busy_port}")
    assert done.returncode != 0 and "Error 1" in done.stderr  # the recipe exits 1 (make itself: 2)
    assert recipe_lines(done) == [f"ui: port {busy_port} is in use: make ui PORT={busy_port + 1}"]
    assert done.stdout == ""  # MLflow never started


def test_a_port_that_is_no_number_is_one_line(project: Path) -> None:
    done = make_ui(project, "PORT=web")
    assert done.returncode != 0
    assert recipe_lines(done) == ["ui: PORT=web is not a port number: make ui PORT=5001"]


def test_mlflow_failing_on_its_own_fails_the_target(project: Path, tmp_path: Path) -> None:
    """MLflow exits 0 when its server cannot bind (a port taken after the check): stand-in `uv`."""
    fake = tmp_path / "uv"
    fake.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\necho \'[Errno 98] Address already in use\' >&2\n')
    fake.chmod(0o755)
    port = free_port()
    done = make_ui(project, f"PORT={port}", f"UV={fake}")
    assert done.returncode != 0
    assert recipe_lines(done) == [
        "[Errno 98] Address already in use",
        "ui: the MLflow server stopped on its own: see its error above",
    ]
    assert (
        f"mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port {port}"
        in (tmp_path / "args").read_text()
    )
