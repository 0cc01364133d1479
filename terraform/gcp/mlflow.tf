# Shared MLflow tracking server (tracking + model registry) on Cloud Run, scaled to zero when
# idle. No unauthenticated access: Cloud Run checks a Google ID token (audience: the service
# URL) and roles/run.invoker on every request. Project stacks grant run.invoker to their CI
# service accounts; humans in mlflow_invokers open the UI with
#   gcloud run services proxy mlflow --region <region>   (then http://localhost:8080)
# Ingress stays open to the internet because GitHub-hosted runners and laptops call it from there.
#
# Artifacts of experiments without their own location go to gs://<project_id>-mlflow/mlflow,
# proxied by the server. Projects that log to their own bucket grant this service account
# roles/storage.objectViewer on it so the UI can show the files.
#
# Teardown: the service's deletion_protection (provider default: true) makes Terraform refuse to
# delete it. Add deletion_protection = false to it, apply, then destroy; the database likewise
# needs deletion_protection and deletion_protection_enabled set to false first.

locals {
  mlflow_name = "mlflow"

  # Cloud Run cannot pull from ghcr.io: images from there come through an Artifact Registry
  # remote repository (a pull-through cache); other references are used as they are.
  mlflow_image = (startswith(var.mlflow_image, "ghcr.io/")
    ? "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.ghcr.repository_id}/${trimprefix(var.mlflow_image, "ghcr.io/")}"
    : var.mlflow_image
  )

  mlflow_sa = "serviceAccount:${google_service_account.mlflow.email}"

  # Host headers MLflow accepts (its DNS-rebinding guard): the deterministic URL and the older
  # hash-based one of this service. `gcloud run services proxy` sends the service's own host.
  mlflow_allowed_hosts = [
    "${local.mlflow_name}-${local.project_number}.${var.region}.run.app",
    "${local.mlflow_name}-*.a.run.app",
  ]
}

resource "google_artifact_registry_repository" "ghcr" {
  location      = var.region
  repository_id = "ghcr"
  description   = "Pull-through cache of ghcr.io (Cloud Run cannot pull from there)"
  format        = "DOCKER"
  mode          = "REMOTE_REPOSITORY"
  kms_key_name  = google_kms_crypto_key.platform.id

  remote_repository_config {
    description = "ghcr.io, anonymous (public images only)"
    docker_repository {
      custom_repository {
        uri = "https://ghcr.io"
      }
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.agents]
}

resource "google_service_account" "mlflow" {
  account_id   = "mlflow-server"
  display_name = "MLflow tracking server"
  description  = "Runs the MLflow Cloud Run service: reads its database password, writes artifacts."

  depends_on = [google_project_service.main]
}

resource "google_secret_manager_secret_iam_member" "mlflow_db_password" {
  secret_id = google_secret_manager_secret.mlflow_db_password.id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.mlflow_sa
}

resource "google_storage_bucket_iam_member" "mlflow_artifacts" {
  bucket = google_storage_bucket.platform["mlflow"].name
  role   = "roles/storage.objectUser"
  member = local.mlflow_sa
}

# Cloud SQL has no per-instance IAM: a condition limits the grant to this instance.
resource "google_project_iam_member" "mlflow_sql_client" {
  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = local.mlflow_sa

  condition {
    title      = "mlflow-instance-only"
    expression = "resource.name == 'projects/${var.project_id}/instances/${google_sql_database_instance.mlflow.name}' && resource.type == 'sqladmin.googleapis.com/Instance'"
  }
}

resource "google_cloud_run_v2_service" "mlflow" {
  name     = local.mlflow_name
  location = var.region
  ingress  = "INGRESS_TRAFFIC_ALL"

  template {
    service_account = google_service_account.mlflow.email

    scaling {
      min_instance_count = 0
      max_instance_count = var.mlflow_max_instances
    }

    # Only private ranges (the Cloud SQL peering) go through the VPC; Google APIs go direct.
    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = google_compute_network.mlflow.id
        subnetwork = google_compute_subnetwork.mlflow.id
      }
    }

    volumes {
      name = "cloudsql"
      cloud_sql_instance {
        instances = [google_sql_database_instance.mlflow.connection_name]
      }
    }

    containers {
      image   = local.mlflow_image
      command = ["mlflow"]
      # The URI carries no password: libpq reads it from PGPASSWORD. The socket is the one the
      # cloudsql volume provides.
      args = [
        "server",
        "--backend-store-uri", "postgresql://${google_sql_user.mlflow.name}@/${google_sql_database.mlflow.name}?host=/cloudsql/${google_sql_database_instance.mlflow.connection_name}",
        "--artifacts-destination", "gs://${google_storage_bucket.platform["mlflow"].name}/mlflow",
        "--host", "0.0.0.0",
        "--port", "8080",
        "--workers", "2",
        "--allowed-hosts", join(",", local.mlflow_allowed_hosts),
      ]

      ports {
        container_port = 8080
      }

      env {
        name = "PGPASSWORD"
        value_source {
          secret_key_ref {
            secret = google_secret_manager_secret.mlflow_db_password.secret_id
            # Pinned: a new password rolls out as a new revision.
            version = google_secret_manager_secret_version.mlflow_db_password.version
          }
        }
      }

      # 2 workers x (4 + 2) connections per instance: with the default mlflow_max_instances this
      # stays well under max_connections of the smallest tiers (100).
      env {
        name  = "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"
        value = "4"
      }
      env {
        name  = "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"
        value = "2"
      }

      resources {
        limits = {
          cpu    = "1"
          memory = "2Gi"
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      volume_mounts {
        name       = "cloudsql"
        mount_path = "/cloudsql"
      }

      # /health skips MLflow's host check. The first start migrates the database schema.
      startup_probe {
        period_seconds    = 10
        timeout_seconds   = 5
        failure_threshold = 24
        http_get {
          path = "/health"
        }
      }

      liveness_probe {
        period_seconds = 30
        http_get {
          path = "/health"
        }
      }
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.mlflow_db_password,
    google_storage_bucket_iam_member.mlflow_artifacts,
    google_project_iam_member.mlflow_sql_client,
  ]
}

resource "google_cloud_run_v2_service_iam_member" "mlflow_invokers" {
  for_each = toset(var.mlflow_invokers)

  name     = google_cloud_run_v2_service.mlflow.name
  location = google_cloud_run_v2_service.mlflow.location
  role     = "roles/run.invoker"
  member   = each.key
}
