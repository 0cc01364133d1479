"""The traffic of a release as data: which revision gets what share after each rollout step.

Pure functions, no I/O: `deploy config` writes their result as terraform/<cloud>/serving/
release.auto.tfvars.json and `deploy rollout` walks `steps()` in order.

- `canary`: the new version gets `canary_percent`, the previously live version the rest;
- `full`: the new version gets everything;
- `rollback`: the previously live version gets everything again; the new version's entry stays,
  at 0, so that its revision is still addressable (logs, a second look).

With no previously live version there is nothing to share with: the steps are just `full`, and a
rollback leaves the environment serving nothing (release None), as before the deploy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import CommandError

STEPS = ("canary", "full", "rollback")
DEFAULT_CANARY_PERCENT = 10


class TrafficError(CommandError):
    """Bad rollout parameters: one line naming the parameter and its allowed values."""


@dataclass(frozen=True)
class Revision:
    """One version as serving knows it: its registry number and its image tag (v3-abc1234)."""

    version: str
    image_tag: str


def canary_percent(raw: Any) -> int:
    """params.yaml `deploy.canary_percent`, checked: a share strictly between 0 and 100."""
    if raw is None:
        return DEFAULT_CANARY_PERCENT
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 100:
        raise TrafficError(
            f"params.yaml deploy.canary_percent must be a whole number from 1 to 99, not {raw!r}: "
            "0 would send the new version nothing to test, 100 would skip the canary (set 10)"
        )
    return raw


def step_name(raw: str) -> str:
    if raw not in STEPS:
        raise TrafficError(f"unknown step '{raw}': use {', '.join(STEPS)}")
    return raw


def steps(new: Revision | None, live: Revision | None) -> list[str]:
    """The steps that take serving from `live` to `new`: none when `new` already serves."""
    if new is None or (live is not None and live.version == new.version):
        return []
    return ["full"] if live is None else ["canary", "full"]


def traffic(new: Revision, previous: Revision | None, step: str, percent: int) -> list[dict[str, Any]]:
    """Every revision that must exist after `step`, the new one first, percents summing to 100.

    Raises TrafficError for a rollback with no previous version: call `release()` for that case.
    """
    step_name(step)
    canary_percent(percent)
    same = previous is not None and previous.version == new.version
    if previous is None or same:
        if step == "rollback":
            raise TrafficError(f"v{new.version} has no earlier version to roll back to")
        return [entry(new, 100)]
    shares = {"canary": (percent, 100 - percent), "full": (100, 0), "rollback": (0, 100)}[step]
    found = [entry(new, shares[0])]
    if shares[1] or step == "full":
        # After `full` the previous revision is kept at 0 until the next release: a rollback
        # (break-glass) then only moves traffic, it does not have to start a revision.
        found.append(entry(previous, shares[1]))
    return found


def entry(revision: Revision, percent: int) -> dict[str, Any]:
    return {"version": revision.version, "image_tag": revision.image_tag, "percent": percent}


def release(
    environment: str, model: str, new: Revision | None, previous: Revision | None, step: str, percent: int
) -> dict[str, Any] | None:
    """The `release` object of release.auto.tfvars.json; None when nothing should serve."""
    step = step_name(step)
    percent = canary_percent(percent)
    if new is None:
        return None
    if previous is None or previous.version == new.version:
        if step == "rollback":
            return None  # the new version was the first: nothing served before it
        step = "full"  # nothing to share traffic with: the canary is skipped
    return {
        "environment": environment,
        "model": model,
        "version": new.version,
        "image_tag": new.image_tag,
        "step": step,
        "canary_percent": percent,
        "traffic": traffic(new, previous, step, percent),
    }


def after_failure(new: Revision, previous: Revision | None) -> list[dict[str, Any]]:
    """Traffic after a failed smoke test: the previous version takes everything back, or nothing serves."""
    return [] if previous is None else traffic(new, previous, "rollback", DEFAULT_CANARY_PERCENT)
