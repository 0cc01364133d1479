# MLflow's backend store (runs, metrics, model registry): Cloud SQL for PostgreSQL, private IP
# only. Only Cloud SQL connectors may connect (connector_enforcement) and they must present a
# client certificate (ssl_mode): the MLflow service uses Cloud Run's built-in Cloud SQL
# connection, which is such a connector and reaches the private IP through the service's VPC
# egress. It logs in as the built-in user "mlflow" with a generated password kept in Secret
# Manager: IAM database authentication would need the Auth Proxy's --auto-iam-authn, which
# Cloud Run's built-in connection does not offer.

resource "google_sql_database_instance" "mlflow" {
  name                = "mlflow" # a deleted instance's name is blocked for about a week
  region              = var.region
  database_version    = "POSTGRES_18"
  encryption_key_name = google_kms_crypto_key.platform.id
  deletion_protection = true # Terraform's guard; deletion_protection_enabled below is Google's

  settings {
    edition                     = "ENTERPRISE"
    tier                        = var.mlflow_db_tier
    availability_type           = var.mlflow_db_high_availability ? "REGIONAL" : "ZONAL"
    deletion_protection_enabled = true
    retain_backups_on_delete    = true
    disk_autoresize             = true
    connector_enforcement       = "REQUIRED"
    user_labels                 = local.labels

    # Backups are stored apart from the instance (by default in the nearest multi-region) and
    # outlive it (retain_backups_on_delete); point-in-time recovery covers the last 7 days.
    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      start_time                     = "02:00"
      transaction_log_retention_days = 7
      backup_retention_settings {
        retained_backups = 30
      }
    }

    ip_configuration {
      ipv4_enabled    = false
      private_network = google_compute_network.mlflow.id
      ssl_mode        = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
      # Cloud Run's built-in connection needs the per-instance CA.
      server_ca_mode = "GOOGLE_MANAGED_INTERNAL_CA"
    }

    maintenance_window {
      day          = 7 # Sunday
      hour         = 3
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled = true
    }

    # Connections, locks, DDL and durations logged for audits (CIS PostgreSQL benchmark).
    # Written out one by one: checkov does not expand dynamic blocks.
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_duration"
      value = "on"
    }
    database_flags {
      name  = "log_hostname"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_min_messages"
      value = "warning"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
  }

  depends_on = [google_service_networking_connection.private_services, google_kms_crypto_key_iam_member.agents]
}

resource "google_sql_database" "mlflow" {
  name     = "mlflow"
  instance = google_sql_database_instance.mlflow.name
}

# A random password without the random provider: uuid() draws from crypto/rand (2 x 122 bits).
# It is fixed in state on the first apply (ignore_changes); the state bucket is CMEK-encrypted
# and private. Rotate with `terraform apply -replace=terraform_data.mlflow_db_password`: the
# user, the secret and (through the pinned secret version) a new Cloud Run revision follow.
resource "terraform_data" "mlflow_db_password" {
  input = replace("${uuid()}${uuid()}", "-", "")

  lifecycle {
    ignore_changes = [input]
  }
}

resource "google_sql_user" "mlflow" {
  name     = "mlflow"
  instance = google_sql_database_instance.mlflow.name
  password = terraform_data.mlflow_db_password.output
}

resource "google_secret_manager_secret" "mlflow_db_password" {
  secret_id = "mlflow-db-password"

  # One replica, next to the service that reads it, encrypted with the platform key.
  replication {
    user_managed {
      replicas {
        location = var.region
        customer_managed_encryption {
          kms_key_name = google_kms_crypto_key.platform.id
        }
      }
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.agents]
}

resource "google_secret_manager_secret_version" "mlflow_db_password" {
  secret      = google_secret_manager_secret.mlflow_db_password.id
  secret_data = terraform_data.mlflow_db_password.output
}
