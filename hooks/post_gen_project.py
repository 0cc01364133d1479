"""Remove what the chosen answers do not need, then print the next steps.

`OPTION_PATHS` is the one place that decides which files exist for which answer. The hook is
offline, idempotent and touches nothing outside the new project: template update tools (cruft)
re-run it on fresh renders.
"""

# Imports: only what every run needs (this interpreter's start-up is part of each generation);
# os.path rather than pathlib, which costs more to import than this hook uses. Python >= 3.10.
import json
import os
import shutil
import sys

ANSWERS: dict = json.loads({{cookiecutter | tojson | tojson}})  # noqa: F821

# For each option, the paths that belong to each of its values. A path stays when it belongs to
# the chosen value, and is removed when it belongs only to others.
OPTION_PATHS: dict[str, dict[str, list[str]]] = {
    "cloud_provider": {
        # terraform/github reads the project stack's state: it comes with each cloud's stack.
        "aws": ["terraform/aws", "terraform/github"],
        "gcp": ["terraform/gcp", "terraform/github"],
        "azure": ["terraform/azure", "terraform/github"],
    },
}


def remove(relative: str) -> None:
    path = os.path.join(os.getcwd(), relative)
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def remove_unchosen(option: str) -> None:
    keep = set(OPTION_PATHS[option][ANSWERS[option]])
    for paths in OPTION_PATHS[option].values():
        for relative in paths:
            if relative not in keep:
                remove(relative)


def remove_cloud_files() -> None:
    remove_unchosen("cloud_provider")


def next_steps() -> str:
    slug = ANSWERS["project_slug"]
    return f"""
Created {slug} for {ANSWERS["cloud_provider"]} ({ANSWERS["cloud_region"]}).

Next steps (everything runs locally, no cloud account needed):
  cd {slug}
  make setup      # environment, git hooks, data into the local DVC remote
  make pipeline   # prepare -> validate -> featurize -> train -> evaluate
  make report     # reports/report.md, the report CI posts on pull requests
  make ui         # MLflow UI on http://127.0.0.1:5000
Then commit, push to github.com/{ANSWERS["github_owner"]}/{slug} and follow README.md to connect the cloud.
"""


def main() -> int:
    remove_cloud_files()
    print(next_steps())
    return 0


if __name__ == "__main__":
    sys.exit(main())
