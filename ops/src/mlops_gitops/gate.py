"""The quality gate's comparison rule, in one place: the PR report's verdict and the promotion
gate both call it, so they cannot disagree.

Settings come from params.yaml `gate`: primary_metric, higher_is_better, tolerance, minimums,
maximums.
"""

from __future__ import annotations

from .project import Project

EPSILON = 1e-12  # a candidate exactly at the tolerance passes, whatever the float rounding


def worse_by(cfg: Project, candidate: float, champion: float) -> float:
    """How much worse the candidate is on the primary metric (negative when it is better)."""
    higher = bool(cfg.section("gate")["higher_is_better"])
    return (champion - candidate) if higher else (candidate - champion)


def within_tolerance(cfg: Project, candidate: float, champion: float) -> bool:
    return worse_by(cfg, candidate, champion) <= float(cfg.section("gate")["tolerance"]) + EPSILON


def verdict(cfg: Project, current: dict[str, float], best: dict[str, float] | None) -> str:
    """One Markdown sentence for the PR report: this candidate against the champion."""
    gate = cfg.section("gate")
    metric = str(gate["primary_metric"])
    if best is None or metric not in best:
        return f"No champion yet: this candidate would be the first (`{metric}` = {current[metric]:.4f})."
    gap = worse_by(cfg, current[metric], best[metric])
    if not within_tolerance(cfg, current[metric], best[metric]):
        return f"**Worse than the champion** on `{metric}` by {gap:.4f} (tolerance {gate['tolerance']})."
    change = current[metric] - best[metric]
    return f"Within tolerance of the champion on `{metric}` ({change:+.4f}; tolerance {gate['tolerance']})."
