# The answers project generation asks for (docs/cloud/gcp.md), each also under its own name.

output "project_id" {
  description = "Answer gcp_project_id: the project holding the platform."
  value       = var.project_id
}

output "project_number" {
  description = "Project number: the principal:// and principalSet:// identifiers of workload identity use it."
  value       = local.project_number
}

output "tf_state_bucket" {
  description = "Answer tf_state_bucket: bucket holding every project's Terraform state."
  value       = google_storage_bucket.platform["tfstate"].name
}

output "workload_identity_provider" {
  description = "Answer gcp_workload_identity_provider: projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>."
  value       = google_iam_workload_identity_pool_provider.github.name
}

output "kms_key" {
  description = "Answer gcp_kms_key: the data key in region; the same name with dr_region in place of region is its DR twin."
  value       = google_kms_crypto_key.data["main"].id
}

output "mlflow_service" {
  description = "Answer gcp_mlflow_service: projects/<id>/locations/<region>/services/<name>."
  value       = google_cloud_run_v2_service.mlflow.id
}

output "mlflow_tracking_url" {
  description = "Answer gcp_mlflow_tracking_url: MLFLOW_TRACKING_URI, called with a Google ID token for this URL."
  value       = google_cloud_run_v2_service.mlflow.uri
}

output "mlflow_server_service_account" {
  description = "E-mail of the MLflow server's service account: projects grant it read access to their artifact buckets."
  value       = google_service_account.mlflow.email
}

output "region" {
  description = "Answer cloud_region."
  value       = var.region
}

output "dr_region" {
  description = "Answer dr_region."
  value       = var.dr_region
}

output "cookiecutter_answers" {
  description = "Every answer above by its cookiecutter name, e.g. for a cookiecutter config file's default_context."
  value = {
    gcp_project_id                 = var.project_id
    gcp_workload_identity_provider = google_iam_workload_identity_pool_provider.github.name
    gcp_kms_key                    = google_kms_crypto_key.data["main"].id
    gcp_mlflow_service             = google_cloud_run_v2_service.mlflow.id
    gcp_mlflow_tracking_url        = google_cloud_run_v2_service.mlflow.uri
    tf_state_bucket                = google_storage_bucket.platform["tfstate"].name
    cloud_region                   = var.region
    dr_region                      = var.dr_region
  }
}
