"""Export the bundled dataset that generated projects start with.

Maintainer script: writes `{{cookiecutter.project_slug}}/data/raw/breast_cancer.csv` (committed to
the template so that a new project runs offline) with the generated project's own exporter,
`sample_data.export()`. The template's tests compare the shipped file with a fresh export.
Run it with an interpreter that has pandas and scikit-learn (the shared project env).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}"
MODULE = PROJECT / "src/{{cookiecutter.package_name}}/sample_data.py"


def export() -> str:
    spec = importlib.util.spec_from_file_location("sample_data", MODULE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.export())


if __name__ == "__main__":
    text = export()
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
