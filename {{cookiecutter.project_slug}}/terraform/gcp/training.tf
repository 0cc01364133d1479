# Managed training (params.yaml train.backend: vertex; issue #16, docs/cloud/gcp.md): the service
# account this project's Vertex AI custom jobs run as, the training image repository, and what
# the CI accounts need around them:
#   job (training account): read gs://<data>/training/<job>/input/ and the DVC data, write
#                           training/<job>/output/ and training/checkpoints/, pull the training
#                           image, write its logs. Nothing else.
#   pr:                     create, get and cancel custom jobs (a custom role), act as the
#                           training account only, upload the job's inputs. No IAM write.
#   deploy:                 pushes the training image (built on main, never by a pull request).
# Vertex AI has no per-job IAM: the custom role reaches every custom job of the project, and
# the jobs' names (<slug[:40]>-train-<time>) are the launcher's rule, not IAM's. The first apply
# of this file is a platform admin's, as for ci_identities.tf (the custom role and project-level
# grants).

locals {
  training_prefix = "training/"
  # Objects <prefix><job>/<leaf>/...: extract() is empty when the object is not under that leaf.
  training_leaf = "${format(local.under, local.data, local.training_prefix)} && resource.name.extract(\"/objects/${local.training_prefix}{job}/%s/\") != \"\""
}

resource "google_service_account" "training" {
  account_id   = "${local.short_name}-training"
  display_name = "Managed training: ${local.answers.repository}"
  description  = "Identity of the Vertex AI custom jobs of ${local.answers.repository} (training.tf)."
}

# Reads: the job's inputs and checkpoints (under training/) and the DVC data (dvc/), and lists of
# those prefixes. Writes: new objects under training/<job>/output/; checkpoints are rewritten on
# every save, which needs delete (objectUser), under training/checkpoints/ only.
locals {
  training_bucket_grants = {
    training_read = {
      role      = "roles/storage.objectViewer"
      condition = "${format(local.under_or_list, local.data, local.training_prefix, local.training_prefix)} || ${format(local.under_or_list, local.data, "dvc/", "dvc/")}"
    }
    training_output = {
      role      = "roles/storage.objectCreator"
      condition = format(local.training_leaf, "output")
    }
    training_checkpoints = {
      role      = "roles/storage.objectUser"
      condition = format(local.under, local.data, "${local.training_prefix}checkpoints/")
    }
  }
}

resource "google_storage_bucket_iam_member" "training" {
  for_each = local.training_bucket_grants

  bucket = local.data
  role   = each.value.role
  member = google_service_account.training.member

  condition {
    title      = each.key
    expression = each.value.condition
  }
}

# The job's own log lines (Cloud Logging); logWriter holds logging.logEntries.create only.
resource "google_project_iam_member" "training_logs" {
  project = local.answers.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.training.member
}

# Training images (the project's dependencies; the stage's code and data are the job's inputs),
# tags immutable, CMEK like the serving repository.
resource "google_artifact_registry_repository" "training" {
  repository_id = "${local.answers.project}-training"
  location      = local.answers.region
  format        = "DOCKER"
  description   = "Training images of ${local.answers.repository}"
  kms_key_name  = local.kms_key

  docker_config {
    immutable_tags = true
  }

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 10
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s"
    }
  }
}

# The training account pulls; deploy pushes and applies the repository's settings; pr's plan
# reads them.
resource "google_artifact_registry_repository_iam_member" "training" {
  for_each = {
    training = { role = "roles/artifactregistry.reader", member = google_service_account.training.member }
    deploy   = { role = "roles/artifactregistry.admin", member = local.ci_members["deploy"] }
    pr       = { role = "roles/artifactregistry.reader", member = local.ci_members["pr"] }
  }

  location   = google_artifact_registry_repository.training.location
  repository = google_artifact_registry_repository.training.name
  role       = each.value.role
  member     = each.value.member
}

# ---- the PR account: submit and watch custom jobs, as the training account only

# Narrower than roles/aiplatform.user (which also manages models, endpoints, datasets...).
resource "google_project_iam_custom_role" "training_jobs" {
  role_id     = "${replace(local.answers.project, "-", "_")}_training_jobs"
  title       = "Training jobs of ${local.answers.project}"
  description = "Create, get, list and cancel Vertex AI custom jobs (training.tf of ${local.answers.repository})."
  permissions = [
    "aiplatform.customJobs.create",
    "aiplatform.customJobs.get",
    "aiplatform.customJobs.list",
    "aiplatform.customJobs.cancel",
  ]
}

resource "google_project_iam_member" "pr_training_jobs" {
  project = local.answers.project_id
  role    = google_project_iam_custom_role.training_jobs.name
  member  = local.ci_members["pr"]
}

# actAs on the training account only: a job the PR account creates runs as that account or fails.
resource "google_service_account_iam_member" "pr_training" {
  service_account_id = google_service_account.training.name
  role               = "roles/iam.serviceAccountUser"
  member             = local.ci_members["pr"]
}

# The launcher uploads the stage's deps to training/<job>/input/ (it reads outputs back through
# pr_data_read); create only, no overwrite, no delete.
resource "google_storage_bucket_iam_member" "pr_training_inputs" {
  bucket = local.data
  role   = "roles/storage.objectCreator"
  member = local.ci_members["pr"]

  condition {
    title      = "pr_training_inputs"
    expression = format(local.training_leaf, "input")
  }
}

# terraform apply updates the training account (as it does the serving account).
resource "google_service_account_iam_member" "deploy_training" {
  service_account_id = google_service_account.training.name
  role               = "roles/iam.serviceAccountAdmin"
  member             = local.ci_members["deploy"]
}
