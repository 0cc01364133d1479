# The training image of managed training (docs/training.md): the project's locked environment plus
# the `training` extra (this cloud's SDK), and nothing of the project's code or data. A job pulls
# the train stage's inputs and code from the bucket, runs the stage's command, pushes its outputs
# (`mlops-gitops train container`). Shared with nothing else; rebuilt when uv.lock changes.
# `make training-image` prints the build and push commands (tag: lock-<hash of uv.lock>).
FROM python:{{ cookiecutter.python_version }}-slim
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /usr/local/bin/uv

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=true \
    DVC_NO_ANALYTICS=1

# Dependencies only, exactly as locked: the job's code arrives with its inputs.
WORKDIR /opt/build
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project --no-dev --extra training

# The user stays root: SageMaker mounts /opt/ml (checkpoints, output) owned by root. The job's
# rights are those of its cloud identity (TRAINING_ROLE), scoped by the project's Terraform.
WORKDIR /job
# The launcher sets the full command; this is the same, for `docker run <image> python -m <package>.train`.
ENTRYPOINT ["mlops-gitops", "train", "container", "--"]
CMD ["python", "-m", "{{ cookiecutter.package_name }}.train"]
