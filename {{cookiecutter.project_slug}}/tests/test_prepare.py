from pathlib import Path

import pandas as pd
import pytest
from mlops_gitops.errors import CommandError

from {{ cookiecutter.package_name }}.dataset import normalise_name, prepare, read_raw


def test_column_names_are_normalised() -> None:
    assert normalise_name(" Mean Radius ") == "mean_radius"
    assert normalise_name("worst-concave.points") == "worst_concave_points"


def test_duplicate_rows_are_dropped() -> None:
    frame = pd.DataFrame({"A": ["1", "1", "2"], "target": ["0", "0", "1"]})
    assert prepare(frame).to_dict("list") == {"a": ["1", "2"], "target": ["0", "1"]}


def test_values_are_kept_as_text_for_validation(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("a,target\nabc,1\n2.5,0\n")
    assert read_raw(str(path))["a"].tolist() == ["abc", "2.5"]


def test_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("")
    with pytest.raises(CommandError, match="is empty"):
        read_raw(str(path))
