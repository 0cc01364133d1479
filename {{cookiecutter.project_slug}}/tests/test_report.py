import pytest

from {{ cookiecutter.package_name }} import settings
from {{ cookiecutter.package_name }}.report import verdict


@pytest.fixture
def gate(project: settings.Settings) -> settings.Settings:
    params = dict(project.params)
    params["gate"] = {"primary_metric": "roc_auc", "higher_is_better": True, "tolerance": 0.01}
    return settings.Settings(root=project.root, params=params)


def test_first_candidate_has_no_champion(gate: settings.Settings) -> None:
    assert "No champion yet" in verdict(gate, {"roc_auc": 0.9}, None)


def test_worse_beyond_tolerance_is_flagged(gate: settings.Settings) -> None:
    assert "Worse than the champion" in verdict(gate, {"roc_auc": 0.90}, {"roc_auc": 0.95})


def test_within_tolerance_is_accepted(gate: settings.Settings) -> None:
    assert "Within tolerance" in verdict(gate, {"roc_auc": 0.945}, {"roc_auc": 0.95})


def test_lower_is_better_metrics_flip_the_comparison(gate: settings.Settings) -> None:
    gate.params["gate"] = {"primary_metric": "log_loss", "higher_is_better": False, "tolerance": 0.01}
    assert "Worse than the champion" in verdict(gate, {"log_loss": 0.30}, {"log_loss": 0.20})
    assert "Within tolerance" in verdict(gate, {"log_loss": 0.10}, {"log_loss": 0.20})
