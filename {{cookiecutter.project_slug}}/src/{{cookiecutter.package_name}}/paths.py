"""Yours to edit: every file a stage hands on to the next, relative to the project root.

dvc.yaml names the same files (it cannot import them); tests/test_paths.py checks that they agree.
"""

PREPARED = "data/prepared/dataset.parquet"  # prepare -> validate, featurize (text columns)
VALIDATION = "reports/validation.json"  # validate -> featurize, train
TRAIN = "data/features/train.csv"  # featurize -> train
TEST = "data/features/test.csv"  # featurize -> train, evaluate
FEATURIZER = "models/featurizer.joblib"  # featurize -> train
MODEL = "models/model.joblib"  # train -> evaluate
REGISTRATION = "models/registration.json"  # train -> evaluate, report: the registered version
METRICS = "metrics.json"  # evaluate -> report
PLOTS = "plots"  # evaluate -> report
PLOT_DATA = ("confusion.csv", "roc.csv", "feature_importance.csv")  # for `dvc plots diff`
IMAGES = ("confusion_matrix.png", "roc_curve.png", "feature_importance.png")
REPORT = "reports/report.md"  # the PR report (not a pipeline output)
