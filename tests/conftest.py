"""Fixtures and session hooks of the template's test suite; the helpers live in support.py.

Test modules import helpers with `from support import ...`: several folders have their own
conftest.py, so `import conftest` would give whichever one pytest loaded last.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from support import CACHE, project_env

# Session-wide servers live in plugins so that any test folder can use them.
pytest_plugins = ["helpers_mlflow", "helpers_storage"]


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.time()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Record how long a complete, green run took: `make bench` prints it."""
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
