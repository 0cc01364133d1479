"""Refuse a bad project_slug before cookiecutter creates anything on disk.

cookiecutter creates the project folder (`mkdir -p <output>/<slug>`) before pre_gen_project.py
runs, and on a refusal removes that folder only: `a/b` left `a/` behind, `/abs/path` wrote
outside the output folder. This Jinja extension (cookiecutter.json `_extensions`; cookiecutter
imports it from the template, it is not a hook) checks the slug where that folder's name is
rendered, after every prompt, extra_context or replay, so nothing is written. Same rule and same
line as pre_gen_project.py, which checks it again (tests hold the two equal). Offline, no side
effects; not rendered by Jinja, unlike the hooks.
"""

import re

from cookiecutter.exceptions import FailedHookException
from jinja2 import Environment
from jinja2.ext import Extension

# The template folder's name, `{{cookiecutter.project_slug}}`, is rendered from this exact source.
FOLDER_NAME = re.compile(r"\{\{\s*cookiecutter\.project_slug\s*\}\}")
SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MAX_LENGTH = 60


def project_folder(slug: object) -> str:
    """The slug, if it is a valid repository name (hence one plain folder name); else refuse it."""
    if not isinstance(slug, str) or not slug.strip():
        problem = "is empty. Give a value"
    elif any(ord(c) < 32 or ord(c) == 127 for c in slug):
        problem = "contains a control character or line break. Use a single line of plain text"
    elif len(slug) > MAX_LENGTH:
        problem = f"is {len(slug)} characters long. Keep it to {MAX_LENGTH} or fewer"
    elif not SLUG.match(slug):
        problem = (
            f"'{slug}' is not a valid repository name. "
            "Use lowercase letters, digits and single hyphens, starting with a letter"
        )
    else:
        return slug
    # cookiecutter stops on this exception and prints its message: the single line.
    raise FailedHookException(f"ERROR: project_slug: {problem}")


class ProjectFolder(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["project_folder"] = project_folder

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if FOLDER_NAME.fullmatch(source):
            return "{{ cookiecutter.project_slug | project_folder }}"
        return source
