# DVC data and model/artifact buckets, each copied to a replica in the DR region.
module "storage" {
  source = "./modules/secure_bucket"
  providers = {
    google    = google
    google.dr = google.dr
  }

  buckets                    = local.buckets
  region                     = local.answers.region
  dr_region                  = local.answers.dr_region
  kms_key                    = local.kms_key
  kms_dr_key                 = local.kms_dr_key
  noncurrent_version_days    = var.noncurrent_version_days
  replication_interval_hours = var.dr_replication_interval_hours
}

# The platform's MLflow server (service account mlflow-server, terraform/gcp of the template) reads
# run artifacts from here when the UI shows them: CI writes them straight to gs://<bucket>/mlflow.
resource "google_storage_bucket_iam_member" "mlflow_server_reads_artifacts" {
  bucket = module.storage.names["artifacts"]
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:mlflow-server@${local.answers.project_id}.iam.gserviceaccount.com"
}
