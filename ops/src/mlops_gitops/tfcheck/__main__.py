"""`python -m mlops_gitops.tfcheck PATH...`, the same as `mlops-gitops tfcheck PATH...`."""

import sys

from .cli import main

sys.exit(main())
