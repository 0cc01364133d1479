"""Reading a CSV as it comes: names, delimiters, encodings, duplicates (docs/data.md)."""

from pathlib import Path

import pandas as pd
import pytest
from mlops_gitops.errors import CommandError

from {{ cookiecutter.package_name }}.dataset import label_text, normalise_name, prepare, read_raw


def test_column_names_are_normalised() -> None:
    assert normalise_name(" Mean Radius ") == "mean_radius"
    assert normalise_name("worst-concave.points") == "worst_concave_points"
    assert normalise_name("Alcohol %") == "alcohol_pct"
    assert normalise_name("OD280/OD315 of Wines") == "od280_od315_of_wines"
    assert normalise_name("Température") == "temperature"


def test_labels_have_one_spelling() -> None:
    spellings = ("1", "1.0", " 1 ", 1, "yes ", "2.5")
    assert [label_text(v) for v in spellings] == ["1", "1", "1", "1", "yes", "2.5"]


def test_duplicate_rows_are_dropped_and_values_trimmed() -> None:
    frame = pd.DataFrame({"A": ["1", "1 ", "2", " "], "target": ["0", "0", "1", "1"]})
    prepared = prepare(frame)
    assert list(prepared.columns) == ["a", "target"]
    assert prepared["a"].tolist()[:2] == ["1", "2"]
    assert prepared["a"].isna().tolist() == [False, False, True]


def test_values_are_kept_as_text_for_validation(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("a,target\nabc,1\n2.5,0\n")
    assert read_raw(str(path))["a"].tolist() == ["abc", "2.5"]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "raw.csv"
    lines = [["Alcohol %", "Region", "Label"], ["13.5", "north", "yes"]]
    path.write_text("".join(sep.join(line) + "\n" for line in lines))
    frame = read_raw(str(path))
    assert frame.shape == (1, 3)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"a,b,label\n", "has a header but no rows"),
        (b"a,b,a\n1,2,3\n", "column 'a' appears twice"),
        (b"Size,size \n1,2\n", "both become 'size'"),
        (b"a,label\n1,yes,3\n", "line 2 has 3 fields but the header has 2"),
        ("a,label\ncaf\u00e9,1\n".encode("latin-1"), "is not UTF-8 (byte 0xe9 on line 2)"),
    ],
)
def test_unreadable_files_are_one_clear_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "raw.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=expected.replace("(", r"\(").replace(")", r"\)")) as caught:
        read_raw(str(path))
    assert "\n" not in str(caught.value)


def test_a_wrong_delimiter_setting_is_named(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("a;b;label\n1;2;yes\n")
    with pytest.raises(CommandError, match=r"set data\.delimiter"):
        read_raw(str(path), delimiter=",")
