"""Helpers of the template's test suite: rendering, and one project environment per Python.

Rendering uses cookiecutter's own API, hooks included. Generated projects' commands run through
their Makefile, exactly as a user runs them, but in a shared environment (UV_PROJECT_ENVIRONMENT)
so that a dozen renders cost one install; tests/test_demo.py does the full fresh setup once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[2]
CACHE = TEMPLATE / ".cache"
# The machinery package's wheel, built from ops/ by `make test` (UV_FIND_LINKS points here).
WHEELS = CACHE / "wheels"
DEFAULTS: dict[str, Any] = json.loads((TEMPLATE / "cookiecutter.json").read_text())
CLOUDS = ("aws", "gcp", "azure")

# Telemetry and analytics off for every tool the tests start.
PROJECT_TEMPLATE = TEMPLATE / "{{cookiecutter.project_slug}}"
# checkov runs apart from every environment (its dependencies clash), offline and silent.
CHECKOV = "checkov==3.3.30"
CHECKOV_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "BC_API_KEY": "",
    "ANONYMIZE_TELEMETRY": "true",
    "NO_COLOR": "1",
}

QUIET_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "DVC_NO_ANALYTICS": "1",
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "PRE_COMMIT_COLOR": "never",
    "NO_COLOR": "1",
}
os.environ.update(QUIET_ENV)


def uv() -> str:
    found = shutil.which("uv") or str(TEMPLATE / ".tools/bin/uv")
    if not Path(found).exists():
        raise RuntimeError("uv is not installed: run the tests with `make test`")
    return found


def checkov_command() -> list[str]:
    return [uv(), "tool", "run", "--from", CHECKOV, "checkov"]


def checkov_env() -> dict[str, str]:
    return {**os.environ, **CHECKOV_ENV}


def render(output_dir: Path, **answers: Any) -> Path:
    """Render the template with default answers plus `answers`; returns the project folder."""
    output_dir.mkdir(parents=True, exist_ok=True)
    path = cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir), extra_context=answers)
    return Path(path)


def python_for(version: str) -> str:
    """An interpreter of `version`: in pyenv's folder (where this machine keeps them) or on PATH."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(str(p) for p in pyenv.glob(f"{version}.*/bin/python{version}"))
    candidates.append(shutil.which(f"python{version}") or "")
    if sys.version_info[:2] == tuple(int(x) for x in version.split(".")):
        candidates.insert(0, sys.executable)
    for candidate in filter(None, candidates):
        # pyenv's shims exist for every installed version but fail for inactive ones: ask each.
        if subprocess.run([candidate, "--version"], capture_output=True).returncode == 0:
            return candidate
    pytest.skip(f"Python {version} is not installed on this machine (uv cannot download it offline)")
    raise AssertionError  # unreachable


# Test-only, not project pins: the object-store clients `mlflow server` needs to keep artifacts in
# each cloud's emulated bucket (tests/helpers/storage.py). A generated project never runs that
# server: the platform's tracking server holds its artifacts.
MLFLOW_SERVER_STORE_CLIENTS = [
    "boto3==1.43.117",
    "google-cloud-storage==3.17.1",
    "azure-storage-blob==12.31.1",
    "azure-identity==1.27.0",
    # moto's SageMaker for the package's deploy and training tests (ops/tests).
    "moto==5.2.5",
]


def schema_packages() -> list[str]:
    """The provider-schema packages the template's environment pins: the package's tfcheck tests
    (ops/tests) check against them in the project environment too."""
    dev = tomllib.loads((TEMPLATE / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    return [pin for pin in dev if pin.startswith("cdktn-provider-")]


def project_requirements(tmp: Path) -> list[str]:
    """Union of every cloud's runtime, optional (the training SDK) and dev pins, read from rendered
    pyproject.toml files: the package's tests check each cloud's launcher against its real SDK."""
    wanted: set[str] = {*MLFLOW_SERVER_STORE_CLIENTS, *schema_packages()}
    for cloud in CLOUDS:
        project = render(tmp / cloud, cloud_provider=cloud)
        data = tomllib.loads((project / "pyproject.toml").read_text())
        wanted.update(data["project"]["dependencies"])
        for extra in data["project"].get("optional-dependencies", {}).values():
            wanted.update(extra)
        wanted.update(data["dependency-groups"]["dev"])
    return sorted(wanted)


def project_env(version: str, tmp: Path) -> Path:
    """A virtual environment holding every generated project's pins; built once, then reused."""
    return build_project_env(version, project_requirements(tmp))


def build_project_env(version: str, requirements: list[str]) -> Path:
    """project_env() once the pins are known (no rendering: safe in a background thread)."""
    key = hashlib.sha256("\n".join([version, *requirements]).encode()).hexdigest()[:12]
    env = CACHE / f"project-env-{version}-{key}"
    CACHE.mkdir(exist_ok=True)
    # Parallel test runs (xdist workers, several checkouts) must not build the same env at once.
    with open(CACHE / f"{env.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (env / ".complete").exists():
            shutil.rmtree(env, ignore_errors=True)
            subprocess.run([uv(), "venv", "-q", "--python", python_for(version), str(env)], check=True)
            subprocess.run(
                [
                    uv(),
                    "pip",
                    "install",
                    "-q",
                    "--compile-bytecode",
                    "--python",
                    str(env / "bin/python"),
                    *requirements,
                ],
                check=True,
            )
            (env / ".complete").touch()
        # The machinery package keeps its version while its code changes: install this build.
        wheel = next(WHEELS.glob("mlops_gitops-*.whl"), None)
        if wheel is None:
            raise RuntimeError(f"no mlops-gitops wheel in {WHEELS}: run the tests with `make test`")
        subprocess.run(
            [uv(), "pip", "install", "-q", "--no-deps", "--reinstall", "--python", str(env / "bin/python"), str(wheel)],
            check=True,
        )
    return env


def project_command_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MLFLOW_TRACKING_URI")}
    env.update(QUIET_ENV)
    env.update(
        UV_PROJECT_ENVIRONMENT=str(venv),
        UV_NO_SYNC="1",
        MYPY_CACHE_DIR=str(CACHE / f"mypy-{venv.name}"),
        PATH=f"{Path(uv()).parent}{os.pathsep}{env['PATH']}",
    )
    return env


def make(project: Path, *targets: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(project), *targets],
        env=env,
        capture_output=True,
        text=True,
    )
    if check and done.returncode != 0:
        pytest.fail(f"make {' '.join(targets)} failed in {project.name}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def git_init(project: Path) -> None:
    """What a user does right after generating: a repository with one commit."""
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "Generated"],
    ):
        subprocess.run(["git", *args], cwd=project, check=True)
