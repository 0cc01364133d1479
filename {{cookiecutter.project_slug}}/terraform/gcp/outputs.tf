# Read by serving/ and terraform/github (terraform_remote_state): the GitHub repository
# variables come from here, so no value is typed twice.

output "dvc_bucket" {
  description = "DVC data bucket (repository variable DVC_BUCKET; remote gs://<bucket>/dvc)."
  value       = module.storage.names["data"]
}

output "artifact_bucket" {
  description = "Model/artifact bucket (repository variable ARTIFACT_BUCKET); MLflow artifacts under mlflow/."
  value       = module.storage.names["artifacts"]
}

output "pr_service_account" {
  description = "Service account of pull_request jobs (repository variable GCP_SERVICE_ACCOUNT)."
  value       = google_service_account.ci["pr"].email
}

output "deploy_service_account" {
  description = "Service account of production-environment jobs (repository variable GCP_DEPLOY_SERVICE_ACCOUNT)."
  value       = google_service_account.ci["deploy"].email
}

output "backup_service_account" {
  description = "Service account of the scheduled registry backup, backup-environment jobs (repository variable GCP_BACKUP_SERVICE_ACCOUNT)."
  value       = google_service_account.ci["backup"].email
}

output "workload_identity_provider" {
  description = "Workload identity provider the workflows authenticate through (repository variable GCP_WORKLOAD_IDENTITY_PROVIDER)."
  value       = local.answers.workload_identity_provider
}

output "mlflow_tracking_uri" {
  description = "MLFLOW_TRACKING_URI: URL of the platform's MLflow server on Cloud Run (ID-token auth)."
  value       = local.answers.mlflow_tracking_url
}

output "region" {
  description = "Main Google Cloud region (repository variable GCP_REGION)."
  value       = local.answers.region
}

output "serving_service_account" {
  description = "Runtime service account of the Cloud Run model services (serving/)."
  value       = google_service_account.serving.email
}

output "serving_repository" {
  description = "Artifact Registry Docker repository of the serving images (<region>-docker.pkg.dev/<project>/<repository>)."
  value       = google_artifact_registry_repository.serving.registry_uri
}

output "notification_channels" {
  description = "Monitoring notification channel ids that receive this project's alerts."
  value       = local.channel_ids
}

output "repository_variables" {
  description = "GitHub repository variables the workflows read, by name (terraform/github sets them)."
  value = {
    GCP_PROJECT_ID                 = local.answers.project_id
    GCP_REGION                     = local.answers.region
    GCP_WORKLOAD_IDENTITY_PROVIDER = local.answers.workload_identity_provider
    GCP_SERVICE_ACCOUNT            = google_service_account.ci["pr"].email
    GCP_DEPLOY_SERVICE_ACCOUNT     = google_service_account.ci["deploy"].email
    GCP_BACKUP_SERVICE_ACCOUNT     = google_service_account.ci["backup"].email
    MLFLOW_TRACKING_URI            = local.answers.mlflow_tracking_url
    DVC_BUCKET                     = module.storage.names["data"]
    ARTIFACT_BUCKET                = module.storage.names["artifacts"]
    # New MLflow experiments keep artifacts here: the only prefix the CI accounts may write.
    MLFLOW_ARTIFACT_LOCATION = "gs://${module.storage.names["artifacts"]}/mlflow"
    # `make backup` (backup.yml) writes here: copied to <data bucket>-dr with the rest of the bucket.
    BACKUP_URL = "gs://${module.storage.names["data"]}/registry-backup"
    # Recent feature rows that `make monitor` (monitor.yml) compares with the training data.
    MONITOR_URL = "gs://${module.storage.names["data"]}/monitoring"
    # The ID-token audience every serving URL accepts (serving/: custom_audiences); the deploy
    # identity's cloud-auth mints SMOKE_TOKEN for it.
    SERVING_AUDIENCE = local.serving_audience
  }
}

output "serving_audience" {
  description = "ID-token audience of this project's model services in every environment (serving/ custom_audiences)."
  value       = local.serving_audience
}

# ---- managed training (training.tf; docs/cloud/gcp.md, Managed training)

output "training_service_account" {
  description = "Service account the Vertex AI custom jobs run as (repository variable TRAINING_ROLE)."
  value       = google_service_account.training.email
}

output "training_image_repository" {
  description = "Artifact Registry repository of the training image, <region>-docker.pkg.dev/<project>/<repository> (repository variable TRAINING_IMAGE_REPOSITORY)."
  value       = google_artifact_registry_repository.training.registry_uri
}

output "training_repository_variables" {
  description = "The repository variables of the managed-training launchers (terraform/github adds them to repository_variables)."
  value = {
    TRAINING_ROLE             = google_service_account.training.email
    TRAINING_IMAGE_REPOSITORY = google_artifact_registry_repository.training.registry_uri
    # Jobs use <url>/<job>/input/, <url>/<job>/output/ and <url>/checkpoints/<model>/.
    TRAINING_STORAGE_URL = "gs://${module.storage.names["data"]}/training"
  }
}
