"""Fixtures of the Terraform tests; their helpers live in tf_support.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from tf_support import PROJECT_TEMPLATE, TEMPLATE  # noqa: F401


@pytest.fixture(scope="session")
def aws_project(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tf-render")
    return Path(
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out), extra_context={"cloud_provider": "aws"})
    )


@pytest.fixture(scope="session")
def schemas():
    from tfcheck.schema import Schemas

    return Schemas()
