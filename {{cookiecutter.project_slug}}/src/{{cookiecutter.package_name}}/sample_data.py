"""Yours to edit (or delete with the dataset): the starting dataset, scikit-learn's breast-cancer data.

`data/raw/breast_cancer.csv` (tracked by DVC) was written by `export()`; the tests call it too,
so they run where the DVC data has not been pulled (CI's checks job has no cloud credentials).
"""

from __future__ import annotations

PATH = "data/raw/breast_cancer.csv"  # where the export lives in the project (params.yaml data.raw)


def export() -> str:
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.copy()
    frame.columns = [c.strip().lower().replace(" ", "_") for c in frame.columns]
    # scikit-learn codes 0 = malignant; a positive class of "malignant" reads better in reports.
    frame = frame.drop(columns=["target"]).assign(malignant=(bunch.target == 0).astype(int))
    return str(pd.DataFrame(frame).to_csv(index=False, float_format="%.6g", lineterminator="\n"))
