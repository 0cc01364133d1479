# What Cloud Run needs to serve this project's model: the runtime service account and the image
# repository. The services themselves are per environment, in serving/.

resource "google_service_account" "serving" {
  account_id   = "${local.short_name}-serving"
  display_name = "Model serving: ${local.answers.repository}"
  description  = "Runtime identity of the Cloud Run services in serving/."
}

# Reads registered models (mlflow/ in the artifact bucket) and nothing else. Cloud Run pulls the
# image with its own service agent, which reads Artifact Registry of the same project.
resource "google_storage_bucket_iam_member" "serving_models" {
  bucket = local.artifacts
  role   = "roles/storage.objectViewer"
  member = google_service_account.serving.member

  condition {
    title      = "mlflow_models"
    expression = format(local.under, local.artifacts, "mlflow/")
  }
}

# Deploying a revision that runs as this account needs actAs on it (serviceAccountUser);
# terraform apply manages it (serviceAccountAdmin).
resource "google_service_account_iam_member" "deploy_serving" {
  for_each = toset(["roles/iam.serviceAccountUser", "roles/iam.serviceAccountAdmin"])

  service_account_id = google_service_account.serving.name
  role               = each.value
  member             = local.ci_members["deploy"]
}

# MLflow pyfunc serving images (built from the registered model), tags immutable, CMEK.
# The Artifact Registry service agent needs the key too: the platform stack grants it.
resource "google_artifact_registry_repository" "serving" {
  repository_id = local.answers.project
  location      = local.answers.region
  format        = "DOCKER"
  description   = "Serving images of ${local.answers.repository}"
  kms_key_name  = local.kms_key

  docker_config {
    immutable_tags = true
  }

  # The 20 newest images stay whatever their age (rollbacks); older ones go after 30 days.
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 20
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

# deploy pushes images and applies the repository's settings; pr's plan reads them.
resource "google_artifact_registry_repository_iam_member" "ci" {
  for_each = { deploy = "roles/artifactregistry.admin", pr = "roles/artifactregistry.reader" }

  location   = google_artifact_registry_repository.serving.location
  repository = google_artifact_registry_repository.serving.name
  role       = each.value
  member     = local.ci_members[each.key]
}
