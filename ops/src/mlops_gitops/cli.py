"""`mlops-gitops COMMAND ...`: the one entry point; each command keeps its own arguments.

mlops-gitops promote plan|apply|status|propose|evidence
mlops-gitops lineage [REF] [--json]
mlops-gitops storage push|pull [--remote NAME] [--jobs N] [TARGETS...]
mlops-gitops tfcheck [--rules-only|--schema-only] PATHS...
mlops-gitops dr backup|restore|drill|list   (disaster recovery of the registry)
mlops-gitops monitor report|retrain|capture  (data drift against the champion's training data)
mlops-gitops deploy serve|smoke|dockerfile|config|rollout|rollback  (scoring server, smoke test, image, releases)
mlops-gitops train run|container|image  (the train stage here or as a managed job: params.yaml train.backend)
mlops-gitops version
"""

from __future__ import annotations

import importlib
import sys

from . import __version__

# Command -> module whose `main(argv) -> int` runs it; imported on use (MLflow and DVC are slow).
COMMANDS = {
    "promote": "mlops_gitops.promote",
    "lineage": "mlops_gitops.lineage",
    "storage": "mlops_gitops.storage",
    "tfcheck": "mlops_gitops.tfcheck.cli",
    "dr": "mlops_gitops.dr",
    "monitor": "mlops_gitops.monitor",
    "deploy": "mlops_gitops.deploy",
    "train": "mlops_gitops.training",
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command in ("version", "--version"):
        print(__version__)
        return 0
    if command not in COMMANDS:
        print(f"mlops-gitops: unknown command '{command}'; use one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    return int(importlib.import_module(COMMANDS[command]).main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
