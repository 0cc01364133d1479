"""The traffic steps as data (mlops_gitops.traffic): pure functions, every case of a rollout."""

from __future__ import annotations

import pytest

from mlops_gitops.traffic import Revision, TrafficError, after_failure, canary_percent, release, steps, traffic

NEW, OLD = Revision("3", "v3-abc1234"), Revision("2", "v2-def5678")


def shares(entries: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(e["version"], e["percent"]) for e in entries]


def test_canary_then_full_from_a_live_version() -> None:
    assert steps(NEW, OLD) == ["canary", "full"]
    assert shares(traffic(NEW, OLD, "canary", 10)) == [("3", 10), ("2", 90)]
    assert shares(traffic(NEW, OLD, "full", 10)) == [("3", 100), ("2", 0)]
    assert traffic(NEW, OLD, "canary", 25)[0] == {"version": "3", "image_tag": "v3-abc1234", "percent": 25}


def test_a_failed_smoke_gives_everything_back_and_keeps_the_new_revision_at_zero() -> None:
    assert shares(after_failure(NEW, OLD)) == [("3", 0), ("2", 100)]
    assert shares(traffic(NEW, OLD, "rollback", 10)) == [("3", 0), ("2", 100)]
    assert after_failure(NEW, None) == []  # a first version: nothing served before it


def test_a_first_deploy_has_no_canary_and_its_rollback_serves_nothing() -> None:
    assert steps(NEW, None) == ["full"]
    found = release("staging", "m", NEW, None, "canary", 10)
    assert found is not None and found["step"] == "full" and shares(found["traffic"]) == [("3", 100)]
    assert release("staging", "m", NEW, None, "rollback", 10) is None
    with pytest.raises(TrafficError, match="no earlier version"):
        traffic(NEW, None, "rollback", 10)


def test_the_same_version_already_live_is_nothing_to_do() -> None:
    assert steps(NEW, NEW) == []
    assert steps(None, OLD) == []
    assert release("staging", "m", None, OLD, "full", 10) is None


def test_the_release_object_has_the_contract_shape() -> None:
    assert release("production", "diagnosis", NEW, OLD, "canary", 10) == {
        "environment": "production",
        "model": "diagnosis",
        "version": "3",
        "image_tag": "v3-abc1234",
        "step": "canary",
        "canary_percent": 10,
        "traffic": [
            {"version": "3", "image_tag": "v3-abc1234", "percent": 10},
            {"version": "2", "image_tag": "v2-def5678", "percent": 90},
        ],
    }


@pytest.mark.parametrize("step", ["canary", "full", "rollback"])
@pytest.mark.parametrize("percent", [1, 10, 50, 99])
def test_percents_always_sum_to_100_and_the_new_version_comes_first(step: str, percent: int) -> None:
    found = traffic(NEW, OLD, step, percent)
    assert sum(e["percent"] for e in found) == 100 and found[0]["version"] == "3"


@pytest.mark.parametrize("bad", [0, 100, -5, 150, 10.5, "10", True])
def test_a_canary_percent_of_0_or_100_or_not_a_whole_number_is_refused(bad: object) -> None:
    with pytest.raises(TrafficError, match=r"deploy.canary_percent must be a whole number from 1 to 99"):
        canary_percent(bad)
    with pytest.raises(TrafficError):
        release("staging", "m", NEW, OLD, "canary", bad)  # type: ignore[arg-type]
    assert canary_percent(None) == 10


def test_an_unknown_step_is_refused() -> None:
    with pytest.raises(TrafficError, match="unknown step 'blue': use canary, full, rollback"):
        release("staging", "m", NEW, OLD, "blue", 10)
