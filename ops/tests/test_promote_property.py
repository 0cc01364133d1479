"""Property: whatever the sequence of candidates, a worse one never becomes champion, and a second
apply never changes anything."""

from __future__ import annotations

import pytest
from conftest import EVIDENCE, Registry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_gitops import gate


def primary(registry: Registry, version: str) -> float:
    run_id = registry.client.get_model_version(registry.model, version).run_id
    return float(registry.client.get_run(run_id).data.metrics[registry.cfg.section("gate")["primary_metric"]])


@pytest.mark.parametrize("project", ["roc_auc", "log_loss"], indirect=True)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(qualities=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=4))
def test_worse_candidate_never_becomes_champion(registry: Registry, qualities: list[float]) -> None:
    registry.fresh_model()  # each example starts from an empty registry entry
    tolerance = float(registry.cfg.section("gate")["tolerance"])
    for q in qualities:
        champion = registry.aliases().get("champion")
        version = registry.register(q)
        registry.desire(production=version)
        code, _, _ = registry.run("apply", *EVIDENCE)
        worse = champion is not None and (
            gate.worse_by(registry.cfg, primary(registry, version), primary(registry, champion)) > tolerance
        )
        assert code == (1 if worse else 0)
        assert registry.aliases().get("champion") == (champion if worse else version)
        before = registry.snapshot()
        registry.run("apply", *EVIDENCE)
        assert registry.snapshot() == before
