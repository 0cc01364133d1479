"""Property, against the real tracking server: across random sequences of candidate metrics, a
candidate worse than the champion beyond the tolerance never becomes champion, a better one does,
and a second apply never changes the registry."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.promotion import DESIRED, EVIDENCE, Driver, desired_text, registry_for, rendered, set_model

pytestmark = pytest.mark.slow
NAMES = itertools.count(1)


@pytest.fixture(scope="module")
def setup(mlflow_server: str, shared_env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    project = rendered(tmp_path_factory.mktemp("prop"), "promotion-prop")
    driver = Driver(shared_env("3.11") / "bin/python", project, mlflow_server)
    yield {"project": project, "driver": driver, "url": mlflow_server}
    driver.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(qualities=st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=1, max_size=4))
def test_worse_candidate_never_becomes_champion(setup: dict, qualities: list[float]) -> None:
    project, driver = setup["project"], setup["driver"]
    model = f"promotion_prop_{next(NAMES)}"  # a fresh registered model per example
    set_model(project, model)
    registry = registry_for(setup["url"], project, driver)
    tolerance = float(yaml.safe_load((project / "params.yaml").read_text())["gate"]["tolerance"])
    for q in qualities:
        champion = registry.aliases().get("champion")
        version = registry.register(q)
        (project / DESIRED).write_text(desired_text(model, None, version))
        code, _, err = driver.run("apply", *EVIDENCE)
        if champion is None:
            worse = False
        else:
            old, new = registry.metric(champion), registry.metric(version)
            worse = ((old - new) if registry.higher_is_better else (new - old)) > tolerance
        assert code == (1 if worse else 0), err
        assert registry.aliases().get("champion") == (champion if worse else version)
        before = registry.snapshot()
        driver.run("apply", *EVIDENCE)
        assert registry.snapshot() == before
