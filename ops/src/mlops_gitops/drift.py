"""The drift statistics of `mlops-gitops monitor`: numpy and scipy only, one column at a time.

Each test pairs a significance gate with an effect-size floor, so that a small batch does not alarm
on sampling noise and a large one does not alarm on a shift too small to matter:

- numbers: Kolmogorov-Smirnov p below `ks_pvalue` AND (KS statistic D >= `ks_statistic` OR
  PSI >= `psi`); PSI on `psi_bins` quantile bins of the reference (edges from the reference only);
- categories (and predicted classes, labels): chi-squared p below `chi2_pvalue` AND (total
  variation distance >= `tvd` OR PSI >= `psi`); or categories the reference never had on at least
  `new_category_share` of the rows;
- missing values: their share rises by `missing_increase` or more.

Measured on the bundled breast-cancer data (ops/tests/test_monitor.py): 0 alarms in 25 seeds of
500 rows resampled from the training split (30 features, a category column and the
predictions: 800 column tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .project import ConfigError

EPSILON = 1e-4  # the share an empty bin counts for in PSI (log of zero otherwise)

DEFAULTS: dict[str, float] = {
    "psi": 0.2,
    "psi_bins": 10,
    "ks_pvalue": 0.001,
    "ks_statistic": 0.1,
    "chi2_pvalue": 0.001,
    "tvd": 0.1,
    "new_category_share": 0.01,
    "missing_increase": 0.05,
}


@dataclass
class Thresholds:
    psi: float = DEFAULTS["psi"]
    psi_bins: int = int(DEFAULTS["psi_bins"])
    ks_pvalue: float = DEFAULTS["ks_pvalue"]
    ks_statistic: float = DEFAULTS["ks_statistic"]
    chi2_pvalue: float = DEFAULTS["chi2_pvalue"]
    tvd: float = DEFAULTS["tvd"]
    new_category_share: float = DEFAULTS["new_category_share"]
    missing_increase: float = DEFAULTS["missing_increase"]

    @classmethod
    def from_params(cls, section: dict[str, Any]) -> Thresholds:
        values: dict[str, Any] = {}
        for key, default in DEFAULTS.items():
            raw = section.get(key, default)
            if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or raw < 0:
                raise ConfigError(
                    f"params.yaml monitor.{key} is {raw!r}: use a non-negative number (default {default:g})"
                )
            values[key] = int(raw) if key == "psi_bins" else float(raw)
        if values["psi_bins"] < 2:
            raise ConfigError("params.yaml monitor.psi_bins must be 2 or more (default 10)")
        return cls(**values)


@dataclass
class Result:
    """One column's comparison; `reasons` is empty when it has not drifted."""

    name: str
    kind: str  # numeric | categorical | prediction | label
    rows_reference: int
    rows_recent: int
    missing_reference: float
    missing_recent: float
    psi: float | None = None
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    chi2_pvalue: float | None = None
    tvd: float | None = None
    new_categories: list[str] = field(default_factory=list)
    new_category_share: float = 0.0
    shares: dict[str, list[float]] = field(default_factory=dict)  # categories: {value: [reference, recent]}
    schema: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    plot: str | None = None

    @property
    def drift(self) -> bool:
        return bool(self.reasons)

    def as_dict(self) -> dict[str, Any]:
        data = {k: _plain(v) for k, v in self.__dict__.items()}
        data["drift"] = self.drift
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else round(float(value), 6)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def psi_from_shares(expected: np.ndarray, actual: np.ndarray) -> float:
    p = np.clip(expected, EPSILON, None)
    q = np.clip(actual, EPSILON, None)
    return float(np.sum((q - p) * np.log(q / p)))


def quantile_edges(reference: np.ndarray, bins: int) -> np.ndarray:
    """The inner edges of `bins` equal-count bins of the reference (ties merge bins)."""
    return np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))


def binned_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return counts / max(len(values), 1)


def numeric(name: str, reference: np.ndarray, recent: np.ndarray, limits: Thresholds) -> Result:
    """Compare two float arrays (NaN = missing)."""
    from scipy.stats import ks_2samp

    ref_missing, new_missing = np.isnan(reference), np.isnan(recent)
    result = Result(
        name, "numeric", len(reference), len(recent),
        float(ref_missing.mean()) if len(reference) else 0.0,
        float(new_missing.mean()) if len(recent) else 0.0,
    )  # fmt: skip
    _missing(result, limits)
    ref, new = reference[~ref_missing], recent[~new_missing]
    ref, new = ref[np.isfinite(ref)], new[np.isfinite(new)]
    if len(ref) < 2 or len(new) < 2:
        return result
    edges = quantile_edges(ref, limits.psi_bins)
    result.psi = psi_from_shares(binned_shares(ref, edges), binned_shares(new, edges))
    test = ks_2samp(ref, new)
    result.ks_statistic, result.ks_pvalue = float(test.statistic), float(test.pvalue)
    if result.ks_pvalue < limits.ks_pvalue and (result.ks_statistic >= limits.ks_statistic or result.psi >= limits.psi):
        result.reasons.append(
            f"distribution moved (KS D {result.ks_statistic:.2f}, p {result.ks_pvalue:.1e}; PSI {result.psi:.2f})"
        )
    return result


def categorical(
    name: str, reference: np.ndarray, recent: np.ndarray, limits: Thresholds, kind: str = "categorical"
) -> Result:
    """Compare two arrays of text values (None/NaN = missing)."""
    from scipy.stats import chi2_contingency

    ref_missing, new_missing = _isna(reference), _isna(recent)
    result = Result(
        name, kind, len(reference), len(recent),
        float(ref_missing.mean()) if len(reference) else 0.0,
        float(new_missing.mean()) if len(recent) else 0.0,
    )  # fmt: skip
    _missing(result, limits)
    ref_values, ref_counts = np.unique(reference[~ref_missing].astype(str), return_counts=True)
    new_values, new_counts = np.unique(recent[~new_missing].astype(str), return_counts=True)
    if not ref_counts.sum() or not new_counts.sum():
        return result
    categories = sorted(set(ref_values) | set(new_values))
    ref_table = dict(zip(ref_values.tolist(), ref_counts.tolist(), strict=True))
    new_table = dict(zip(new_values.tolist(), new_counts.tolist(), strict=True))
    table = np.array([[ref_table.get(c, 0) for c in categories], [new_table.get(c, 0) for c in categories]])
    p, q = table[0] / table[0].sum(), table[1] / table[1].sum()
    result.shares = {c: [float(a), float(b)] for c, a, b in zip(categories, p, q, strict=True)}
    result.psi = psi_from_shares(p, q)
    result.tvd = float(0.5 * np.abs(p - q).sum())
    result.chi2_pvalue = float(chi2_contingency(table).pvalue) if len(categories) > 1 else 1.0
    unseen = [c for c in categories if c not in ref_table]
    result.new_categories = unseen[:20]
    result.new_category_share = float(sum(new_table[c] for c in unseen) / table[1].sum())
    if unseen and result.new_category_share >= limits.new_category_share:
        shown = ", ".join(repr(c) for c in unseen[:5])
        result.reasons.append(f"categories never seen in training: {shown} on {result.new_category_share:.1%} of rows")
    if result.chi2_pvalue < limits.chi2_pvalue and (result.tvd >= limits.tvd or result.psi >= limits.psi):
        result.reasons.append(
            f"shares moved (chi2 p {result.chi2_pvalue:.1e}; total variation {result.tvd:.2f}; PSI {result.psi:.2f})"
        )
    return result


def _isna(values: np.ndarray) -> np.ndarray:
    import pandas as pd

    return np.asarray(pd.isna(values), dtype=bool)


def _missing(result: Result, limits: Thresholds) -> None:
    rise = result.missing_recent - result.missing_reference
    if result.rows_recent and rise >= limits.missing_increase:
        result.reasons.append(f"missing values {result.missing_reference:.0%} -> {result.missing_recent:.0%}")
