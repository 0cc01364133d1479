import pytest
from mlops_gitops import gate

from {{ cookiecutter.package_name }} import settings


def test_params_are_read_from_the_project(project: settings.Settings) -> None:
    assert project.model_name == "{{ cookiecutter.model_name }}"
    assert project.section("gate")["primary_metric"] == "{{ cookiecutter.primary_metric }}"


def test_the_gate_compares_in_the_metric_direction(project: settings.Settings) -> None:
    """params.yaml's gate, as the PR report and promotion read it: a worse value is flagged."""
    metric = project.section("gate")["primary_metric"]
    better, worse = (0.95, 0.90) if project.section("gate")["higher_is_better"] else (0.10, 0.15)
    assert gate.worse_by(project, worse, better) == pytest.approx(0.05)
    assert "Worse than the champion" in gate.verdict(project, {metric: worse}, {metric: better})
