"""Helpers of the template's test suite, one module per concern (`from helpers.project import ...`):

- project: renders, the shared project environments, make, git, the quiet environment, checkov;
- mlflow_server, storage: the session's `mlflow server` and object-store emulators (pytest plugins);
- workflows: rendered workflows, their lints, act and the CML stand-in;
- promotion, driver/: registries of rendered projects and the promotion driver process;
- terraform: the Terraform toolchain.
"""
