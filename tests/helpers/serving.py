"""Helpers of tests/test_serving.py: a trained project with a champion, and `make serve` as a
background process (its own process group, so that stopping it stops MLflow's workers too).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from helpers.project import git_init, make, project_command_env, render
from helpers.storage import clean_env


@dataclass
class Trained:
    """A rendered project after `make pipeline`, its version 1 made champion."""

    path: Path
    venv: Path

    @property
    def model(self) -> str:
        return str(yaml.safe_load((self.path / "params.yaml").read_text())["model"]["name"])

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return clean_env({**project_command_env(self.venv), **(extra or {})})

    def make(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "--no-print-directory", *args], cwd=self.path, env=self.env(env), capture_output=True, text=True
        )

    def python(self, code: str) -> str:
        done = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code],
            cwd=self.path,
            env=self.env(),
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout


def trained_project(folder: Path, venv: Path, cloud: str = "aws") -> Trained:
    """Render, commit, `make pipeline` (one registered version) and make version 1 the champion."""
    path = render(folder, cloud_provider=cloud)
    git_init(path)
    project = Trained(path, venv)
    make(path, "pipeline", env=project_command_env(venv))
    project.python(
        "from mlflow import MlflowClient\n"
        "c = MlflowClient('sqlite:///mlflow.db', 'sqlite:///mlflow.db')\n"
        f"c.set_registered_model_alias({project.model!r}, 'champion', '1')\n"
    )
    return project


def own_lines(text: str) -> list[str]:
    """What a command printed, without make's own lines."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith("make")]


@contextmanager
def serving(project: Trained, port: int, *args: str, seconds: float = 90) -> Iterator[subprocess.Popen[str]]:
    """`make serve SERVE_PORT=port ARGS` in the background until /ping answers; stopped on exit."""
    log = project.path / f"serve-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "serve", f"SERVE_PORT={port}", *args],
            cwd=project.path, env=project.env(), stdout=out, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + seconds
        while True:
            if process.poll() is not None:
                raise AssertionError(f"make serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"make serve: no /ping after {seconds}s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
