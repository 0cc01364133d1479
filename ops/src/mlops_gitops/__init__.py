"""mlops-gitops: the machinery of the MLOps GitOps template (see README.md).

Python API, for project code and tests:

    from mlops_gitops import project, gate, registry, lineage
    cfg = project.load()                      # params.yaml and the environment
    gate.worse_by(cfg, candidate, champion)   # the one tolerance rule
    registry.champion(cfg)                    # read-only: (version, metrics) or None
    lineage.training_tags(cfg, paths)         # git, CI and DVC facts for a training run
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mlops-gitops")
except PackageNotFoundError:  # imported from a source checkout (the template's own tests)
    __version__ = "0+source"
