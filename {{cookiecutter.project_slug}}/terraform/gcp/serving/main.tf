# Per-environment serving: a Cloud Run service running the promoted model's image as the
# project's serving account, its invokers, and alert policies to the project's channels.
# The environment is the workspace (dev or prod); any other workspace fails the lookup.

data "terraform_remote_state" "project" {
  backend = "gcs"
  config = {
    bucket = local.answers.tf_state_bucket
    prefix = "${local.answers.project}/gcp/project"
  }
}

locals {
  environment = terraform.workspace
  env         = var.environments[local.environment]
  project     = data.terraform_remote_state.project.outputs
  name        = "${trimsuffix(substr(local.answers.project, 0, 40), "-")}-${local.environment}" # Cloud Run: 49 at most
  serve       = var.image_tag != ""

  labels = {
    project       = local.answers.project
    environment   = local.environment
    owner         = substr(lower(replace(local.answers.owner, "/[^a-zA-Z0-9_-]/", "-")), 0, 63)
    "cost-center" = var.cost_center
    "managed-by"  = "terraform"
  }

  # Cloud Monitoring filter of this service's revisions.
  revisions = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${local.name}\""
}

resource "google_cloud_run_v2_service" "model" {
  count = local.serve ? 1 : 0

  name        = local.name
  location    = local.answers.region
  description = "Model of ${local.answers.project} (${local.environment})"
  # Reachable from the project's VPC networks and Google services only, never the internet;
  # callers also need roles/run.invoker (var.invokers).
  ingress = "INGRESS_TRAFFIC_INTERNAL_ONLY"

  template {
    service_account = local.project.serving_service_account

    scaling {
      min_instance_count = local.env.min_instances
      max_instance_count = local.env.max_instances
    }

    containers {
      image = "${local.project.serving_repository}/model:${var.image_tag}"

      ports {
        container_port = 8080 # MLflow's scoring server
      }

      resources {
        limits = {
          cpu    = local.env.cpu
          memory = local.env.memory
        }
        cpu_idle = true # CPU billed only while requests run
      }

      # Loading the model can take a while: up to 2 minutes before the revision counts as failed.
      startup_probe {
        period_seconds    = 10
        failure_threshold = 12
        http_get {
          path = "/ping"
        }
      }
    }
  }

  # All traffic on the newest revision; a canary split is a traffic block per revision.
  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }
}

resource "google_cloud_run_v2_service_iam_member" "invokers" {
  for_each = local.serve ? toset(var.invokers) : toset([])

  location = google_cloud_run_v2_service.model[0].location
  name     = google_cloud_run_v2_service.model[0].name
  role     = "roles/run.invoker"
  member   = each.value
}

resource "google_monitoring_alert_policy" "errors_5xx" {
  count = local.serve ? 1 : 0

  display_name          = "${local.name}: 5xx ratio"
  combiner              = "OR"
  severity              = local.environment == "prod" ? "CRITICAL" : "WARNING"
  notification_channels = local.project.notification_channels

  conditions {
    display_name = "5xx above ${local.env.error_5xx_ratio * 100}% of requests for 5 minutes"
    condition_threshold {
      filter             = "${local.revisions} AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "${local.revisions} AND metric.type = \"run.googleapis.com/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = local.env.error_5xx_ratio
      duration           = "300s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The model service ${local.name} answers server errors. See the runbooks in docs/ (incident, rollback)."
  }
}

resource "google_monitoring_alert_policy" "latency" {
  count = local.serve ? 1 : 0

  display_name          = "${local.name}: p95 latency"
  combiner              = "OR"
  severity              = local.environment == "prod" ? "ERROR" : "WARNING"
  notification_channels = local.project.notification_channels

  conditions {
    display_name = "p95 latency above ${local.env.latency_p95_ms} ms for 15 minutes"
    condition_threshold {
      filter          = "${local.revisions} AND metric.type = \"run.googleapis.com/request_latencies\"" # milliseconds
      comparison      = "COMPARISON_GT"
      threshold_value = local.env.latency_p95_ms
      duration        = "900s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95" # across the service's revisions
        group_by_fields      = ["resource.labels.service_name"]
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The model service ${local.name} is slow (p95 above ${local.env.latency_p95_ms} ms). See the runbooks in docs/ (incident)."
  }
}
