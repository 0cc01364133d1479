"""Yours to edit: the settings the stages read, from params.yaml (the one settings file).

`load()` returns the project as the platform package reads it too (`mlops_gitops.project`): the
root folder, the parameters and the MLflow tracking URI, so a setting has one name and one default.
"""

from __future__ import annotations

from mlops_gitops.project import ConfigError, find_root, load
from mlops_gitops.project import Project as Settings

__all__ = ["ConfigError", "Settings", "find_root", "load"]
