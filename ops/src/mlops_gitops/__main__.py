"""`python -m mlops_gitops ...`, the same as `mlops-gitops ...`."""

import sys

from .cli import main

sys.exit(main())
