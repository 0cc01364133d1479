"""Fixtures and session hooks of the template's test suite; the helpers live in helpers/.

Test modules import helpers with `from support import ...`: several folders have their own
conftest.py, so `import conftest` would give whichever one pytest loaded last.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
from pathlib import Path

import pytest

from helpers.project import CACHE, TEMPLATE, build_project_env, project_env, project_requirements

# Session-wide servers live in plugins so that any test folder can use them.
pytest_plugins = ["helpers.mlflow_server", "helpers.storage"]


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.time()


def pytest_collection_finish(session: pytest.Session) -> None:
    """When test_project.py runs, build the environments of the other Python versions in the
    background: the early tests mostly wait on servers and leave a core idle. shared_env() then
    finds them built (or waits on the build's lock). Rendering (cookiecutter changes the working
    directory) stays in this thread; the background one only runs uv."""
    if not any(item.path.name == "test_project.py" for item in session.items):
        return
    versions = json.loads((TEMPLATE / "cookiecutter.json").read_text())["python_version"][1:]
    requirements = project_requirements(Path(tempfile.mkdtemp(prefix="prebuild-")))

    def build() -> None:
        for version in versions:
            # A failure (a Python not installed, say) is reported by shared_env() in its test.
            with contextlib.suppress(BaseException):
                build_project_env(version, requirements)

    threading.Thread(target=build, name="prebuild-envs", daemon=True).start()


# The longest test files first: with `make test`'s two workers (`--dist loadfile`), each file
# runs whole on one worker, and these two decide when the run ends.
FIRST = ("test_project.py", "test_demo.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: FIRST.index(item.path.name) if item.path.name in FIRST else len(FIRST))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Record how long a complete, green run took: `make bench` prints it."""
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller records
        return
    if exitstatus == 0 and not session.config.option.keyword and session.config.args in ([], ["tests"]):
        CACHE.mkdir(exist_ok=True)
        took = time.time() - session.config.stash[_STARTED]
        (CACHE / "last-suite-seconds").write_text(f"{took:.0f} {time.strftime('%Y-%m-%dT%H:%M')}\n")


_STARTED = pytest.StashKey[float]()


@pytest.fixture(scope="session")
def shared_env(tmp_path_factory: pytest.TempPathFactory):
    """project_env(version) for the session: one build per Python version."""
    built: dict[str, Path] = {}

    def get(version: str = "3.11") -> Path:
        if version not in built:
            built[version] = project_env(version, tmp_path_factory.mktemp(f"reqs{version}"))
        return built[version]

    return get
