"""Fixtures of the Terraform tests; their helpers live in tests/helpers/terraform.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from helpers.project import TEMPLATE


def _render(tmp_path_factory, cloud: str) -> Path:
    out = tmp_path_factory.mktemp(f"tf-render-{cloud}")
    return Path(
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out), extra_context={"cloud_provider": cloud})
    )


@pytest.fixture(scope="session")
def aws_project(tmp_path_factory) -> Path:
    return _render(tmp_path_factory, "aws")


@pytest.fixture(scope="session")
def gcp_project(tmp_path_factory) -> Path:
    return _render(tmp_path_factory, "gcp")


@pytest.fixture(scope="session")
def azure_project(tmp_path_factory) -> Path:
    return _render(tmp_path_factory, "azure")


@pytest.fixture(scope="session")
def schemas():
    from mlops_gitops.tfcheck.schema import Schemas

    return Schemas()
