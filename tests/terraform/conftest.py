"""Fixtures of the Terraform tests; their helpers live in tests/helpers/terraform.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from helpers.project import TEMPLATE


@pytest.fixture(scope="session")
def aws_project(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tf-render")
    return Path(
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out), extra_context={"cloud_provider": "aws"})
    )


@pytest.fixture(scope="session")
def gcp_project(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tf-render-gcp")
    return Path(
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out), extra_context={"cloud_provider": "gcp"})
    )


@pytest.fixture(scope="session")
def schemas():
    from mlops_gitops.tfcheck.schema import Schemas

    return Schemas()
