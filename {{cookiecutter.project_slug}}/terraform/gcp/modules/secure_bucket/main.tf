# Buckets, each copied to a replica in the DR region. Every bucket: versioned, CMEK by default,
# uniform bucket-level access, public access prevented, noncurrent versions deleted, soft delete
# explicit, protected from `terraform destroy`.
#
# CMEK: the project's Cloud Storage service agent must hold roles/cloudkms.cryptoKeyEncrypterDecrypter
# on both keys. The platform stack grants it (it owns the keys); bucket creation fails without it.
# Readers and writers of objects need no KMS role: Cloud Storage encrypts and decrypts for them.

resource "google_storage_bucket" "primary" {
  for_each = var.buckets
  #checkov:skip=CKV_GCP_62:Audit access with Cloud Audit Logs (Data Access logs of storage.googleapis.com); usage logs would need one more bucket per bucket.

  name                        = each.value
  location                    = upper(var.region)
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  encryption {
    default_kms_key_name = var.kms_key
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_days * 86400
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_days
      with_state                 = "ARCHIVED" # noncurrent versions only
    }
    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

# Replicas: read only in a disaster, so Nearline (cheaper storage, a retrieval fee on reads).
resource "google_storage_bucket" "replica" {
  for_each = var.buckets
  provider = google.dr
  #checkov:skip=CKV_GCP_62:Audit access with Cloud Audit Logs (Data Access logs of storage.googleapis.com); usage logs would need one more bucket per bucket.

  name                        = "${each.value}-dr"
  location                    = upper(var.dr_region)
  storage_class               = "NEARLINE"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true # an object changed in the source keeps its previous copy here
  }

  encryption {
    default_kms_key_name = var.kms_dr_key
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_days * 86400
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

# ---- copy to the DR region: Storage Transfer Service, one scheduled job per bucket
#
# RPO: an object reaches its replica at most replication_interval_hours plus the duration of one
# transfer after it was written (1 h + minutes by default). Each run copies the objects that are
# new or changed (compared by checksum), so its duration follows the day's writes, not the
# bucket's size. Deletions never propagate: a deleted or overwritten object stays in the replica
# (and a replaced replica object stays a noncurrent version for noncurrent_version_days).
# Only live versions are copied, not noncurrent ones.

# The project's Storage Transfer service agent, created on first use; it runs the jobs.
data "google_storage_transfer_project_service_account" "this" {}

locals {
  transfer_agent = "serviceAccount:${data.google_storage_transfer_project_service_account.this.email}"
  # Source: list and read objects (objectViewer), read bucket metadata (legacyBucketReader).
  # Replica: write and list (legacyBucketWriter), read objects to compare them (objectViewer).
  transfer_roles = {
    source_viewer = { replica = false, role = "roles/storage.objectViewer" }
    source_bucket = { replica = false, role = "roles/storage.legacyBucketReader" }
    sink_writer   = { replica = true, role = "roles/storage.legacyBucketWriter" }
    sink_viewer   = { replica = true, role = "roles/storage.objectViewer" }
  }
  transfer_grants = {
    for pair in setproduct(keys(var.buckets), keys(local.transfer_roles)) :
    "${pair[0]}-${pair[1]}" => merge(local.transfer_roles[pair[1]], { key = pair[0] })
  }
}

resource "google_storage_bucket_iam_member" "transfer" {
  for_each = local.transfer_grants

  bucket = each.value.replica ? google_storage_bucket.replica[each.value.key].name : google_storage_bucket.primary[each.value.key].name
  role   = each.value.role
  member = local.transfer_agent
}

resource "google_storage_transfer_job" "replica" {
  for_each   = var.buckets
  depends_on = [google_storage_bucket_iam_member.transfer]

  description = "Copy ${each.value} to ${each.value}-dr (disaster recovery)"

  transfer_spec {
    gcs_data_source {
      bucket_name = google_storage_bucket.primary[each.key].name
    }
    gcs_data_sink {
      bucket_name = google_storage_bucket.replica[each.key].name
    }
    transfer_options {
      overwrite_when                = "DIFFERENT"
      delete_objects_unique_in_sink = false # a deletion in the source must not reach the replica
      metadata_options {
        # The source key is regional: replicas are encrypted with the DR bucket's default key.
        kms_key = "KMS_KEY_DESTINATION_BUCKET_DEFAULT"
      }
    }
  }

  schedule {
    # Today (UTC), without a time of day: the first copy starts on creation. Kept afterwards.
    schedule_start_date {
      year  = tonumber(formatdate("YYYY", plantimestamp()))
      month = tonumber(formatdate("M", plantimestamp()))
      day   = tonumber(formatdate("D", plantimestamp()))
    }
    repeat_interval = "${var.replication_interval_hours * 3600}s"
  }

  lifecycle {
    ignore_changes = [schedule[0].schedule_start_date]
  }
}
