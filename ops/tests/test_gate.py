"""One rule for 'worse than the champion': the PR report's verdict and the promotion gate agree."""

from __future__ import annotations

import pytest
from conftest import EVIDENCE, Registry

from mlops_gitops.gate import verdict, worse_by
from mlops_gitops.project import Project
from mlops_gitops.testing import metrics_for


def test_first_candidate_has_no_champion(project: Project) -> None:
    assert "No champion yet" in verdict(project, {"roc_auc": 0.9}, None)


def test_worse_beyond_tolerance_is_flagged_and_within_is_accepted(project: Project) -> None:
    assert "Worse than the champion" in verdict(project, {"roc_auc": 0.90}, {"roc_auc": 0.95})
    assert "Within tolerance" in verdict(project, {"roc_auc": 0.945}, {"roc_auc": 0.95})
    assert "Within tolerance" in verdict(project, {"roc_auc": 0.94}, {"roc_auc": 0.95})  # at the edge


@pytest.mark.parametrize("project", ["log_loss"], indirect=True)
def test_lower_is_better_metrics_flip_the_comparison(project: Project) -> None:
    assert worse_by(project, 0.30, 0.20) == pytest.approx(0.10)
    assert "Worse than the champion" in verdict(project, {"log_loss": 0.30}, {"log_loss": 0.20})
    assert "Within tolerance" in verdict(project, {"log_loss": 0.10}, {"log_loss": 0.20})


@pytest.mark.parametrize(
    ("champion", "candidate"),
    [(0.95, 0.95), (0.95, 0.94), (0.95, 0.9399), (0.90, 0.99), (0.95, 0.80)],
)
def test_report_verdict_and_promotion_gate_agree(registry: Registry, champion: float, candidate: float) -> None:
    """Around the tolerance's edge and past it, the report says 'worse' exactly when promotion refuses."""
    old = registry.register(metrics={**metrics_for(registry.cfg, 0.5), "roc_auc": champion})
    registry.desire(production=old)
    assert registry.run("apply", *EVIDENCE)[0] == 0
    new = registry.register(metrics={**metrics_for(registry.cfg, 0.5), "roc_auc": candidate})
    registry.desire(production=new)
    code, _, err = registry.run("plan")
    says_worse = "Worse than the champion" in verdict(registry.cfg, {"roc_auc": candidate}, {"roc_auc": champion})
    assert says_worse == ("worse than champion" in err), err
    assert code == (0 if candidate >= 0.85 and not says_worse else 1)
