"""End to end, against the real tracking server and through the project's make targets:
register two candidates, plan, apply, check aliases / evidence tags / model card, revert the
desired-state change, reconcile, and the aliases are back (scripts/promotion_e2e.py, which the
template's `make demo` also runs on the demo project)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers.project import TEMPLATE, project_command_env
from helpers.promotion import Driver, registry_for, rendered

pytestmark = pytest.mark.slow


def test_register_plan_apply_revert(mlflow_server: str, shared_env, tmp_path) -> None:
    project = rendered(tmp_path, "promotion-e2e")
    driver = Driver(shared_env("3.11") / "bin/python", project, mlflow_server)
    try:
        registry = registry_for(mlflow_server, project, driver)
        old, new = registry.register(0.4), registry.register(0.8)
    finally:
        driver.close()
    env = {**project_command_env(shared_env("3.11")), "MLFLOW_TRACKING_URI": mlflow_server}
    done = subprocess.run(
        [sys.executable, str(TEMPLATE / "scripts/promotion_e2e.py"), str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "promotion end-to-end: passed" in done.stdout

    # The registry itself, read over REST: the rollback restored the aliases; the audit trail stays.
    assert registry.aliases() == {"champion": old, "staging": old, "previous-champion": new}
    tags = registry.tags(new)
    assert tags["promotion.production.pr"] == "2" and tags["promotion.production.approvers"] == "demo-reviewer"
    assert tags["model_card"].endswith(f"model_card/{registry.model}-v{new}.md")
    assert registry.tags(old)["promotion.production.pr"] == "3"  # the revert is recorded as a promotion
    description = registry.snapshot()["versions"][new][1]
    for section in ("# Model card", "## Intended use", "## Data", "## Metrics against the previous champion"):
        assert section in description
    log = subprocess.run(
        ["git", "log", "--format=%s", "--", "deploy/models.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert log.splitlines()[0].startswith("Revert ")  # the git history is the audit log
