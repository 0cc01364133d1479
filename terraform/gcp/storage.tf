# Terraform state (of this stack and of every project stack, under per-project prefixes) and
# MLflow's default artifact store. Regional in `region`, encrypted with the platform key; a lost
# or overwritten object comes back from its noncurrent versions or from soft delete.
locals {
  buckets = {
    tfstate = var.state_bucket_name
    mlflow  = "${var.project_id}-mlflow"
  }
}

resource "google_storage_bucket" "platform" {
  #checkov:skip=CKV_GCP_62:Usage logs need one more bucket per bucket; access is audited by Cloud Audit Logs (enable Data Access logs for storage where required).
  for_each = local.buckets

  name                        = each.value
  location                    = upper(var.region)
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  encryption {
    default_kms_key_name = google_kms_crypto_key.platform.id
  }

  # Deleted objects stay restorable for 30 days (the default is 7).
  soft_delete_policy {
    retention_duration_seconds = 2592000
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 90
      with_state                 = "ARCHIVED" # noncurrent versions only
    }
    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true
  }

  # Cloud Storage checks the key grant when the bucket is created.
  depends_on = [google_kms_crypto_key_iam_member.agents]
}
