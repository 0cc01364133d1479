"""The shipped dataset really is scikit-learn's copy, and its .dvc file matches it."""

from __future__ import annotations

import hashlib
import subprocess

import yaml

from helpers.project import TEMPLATE

DATA = TEMPLATE / "{{cookiecutter.project_slug}}/data/raw"


def test_shipped_csv_is_the_scikit_learn_export(shared_env) -> None:
    python = shared_env("3.11") / "bin/python"
    exported = subprocess.run(
        [str(python), str(TEMPLATE / "scripts/export_dataset.py")], capture_output=True, check=True
    ).stdout
    assert exported == (DATA / "breast_cancer.csv").read_bytes()


def test_dvc_file_records_the_csv_hash_and_size() -> None:
    data = (DATA / "breast_cancer.csv").read_bytes()
    out = yaml.safe_load((DATA / "breast_cancer.csv.dvc").read_text())["outs"][0]
    assert out["md5"] == hashlib.md5(data).hexdigest()
    assert out["size"] == len(data)
    assert out["path"] == "breast_cancer.csv"
