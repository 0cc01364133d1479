# Per-environment serving: a Container Apps environment with its Log Analytics workspace, the
# model app (from the project's registry, as the project's serving identity) and Azure Monitor
# alerts to the project's action group. The environment is the workspace (dev or prod); any
# other workspace fails the lookup. Applied by the deploy identity (Contributor on the group).

data "terraform_remote_state" "project" {
  backend = "azurerm"
  config = {
    resource_group_name  = local.answers.state_resource_group
    storage_account_name = local.answers.tf_state_bucket
    container_name       = "tfstate"
    key                  = "${local.answers.project}/azure/project.tfstate"
    use_azuread_auth     = true
  }
}

locals {
  environment = terraform.workspace
  env         = var.environments[local.environment]
  project     = data.terraform_remote_state.project.outputs
  name        = "${trimsuffix(substr(local.answers.project, 0, 27), "-")}-${local.environment}" # Container Apps: 32 at most
  serve       = var.image_tag != ""

  tags = {
    project       = local.answers.project
    environment   = local.environment
    owner         = local.answers.owner
    "cost-center" = var.cost_center
    "managed-by"  = "terraform"
  }
}

resource "azurerm_log_analytics_workspace" "serving" {
  name                         = "log-${local.name}"
  location                     = local.answers.region
  resource_group_name          = local.project.resource_group
  sku                          = "PerGB2018"
  retention_in_days            = local.env.log_retention_days
  daily_quota_gb               = local.env.log_daily_quota_gb # a chatty model cannot run up the bill
  local_authentication_enabled = false                        # ingestion through Azure Monitor only
  tags                         = local.tags
}

# Consumption plan, no VNet: apps scale to zero and cost nothing while idle. Logs go through
# Azure Monitor (the diagnostic setting below), so no workspace shared key is ever handled.
resource "azurerm_container_app_environment" "serving" {
  name                = "cae-${local.name}"
  location            = local.answers.region
  resource_group_name = local.project.resource_group
  logs_destination    = "azure-monitor"
  tags                = local.tags
}

resource "azurerm_monitor_diagnostic_setting" "serving" {
  name                       = "logs"
  target_resource_id         = azurerm_container_app_environment.serving.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.serving.id

  enabled_log {
    category_group = "allLogs" # console and system logs of every app
  }
}

resource "azurerm_container_app" "model" {
  count = local.serve ? 1 : 0

  name                         = local.name
  container_app_environment_id = azurerm_container_app_environment.serving.id
  resource_group_name          = local.project.resource_group
  # One active revision: a new image tag replaces the running one once it is ready, and
  # reverting the promotion PR rolls back. A canary is revision_mode "Multiple" with one
  # traffic_weight per revision.
  revision_mode          = "Single"
  max_inactive_revisions = 5 # kept for a quick manual reactivation
  tags                   = local.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [local.project.serving_identity_id]
  }

  registry {
    server   = local.project.registry_login_server
    identity = local.project.serving_identity_id # AcrPull, no registry password
  }

  # Internal by default: reachable from apps of this environment only. allowed_ip_ranges opens
  # it to those ranges alone (Container Apps denies every other address once one rule exists).
  ingress {
    external_enabled           = length(var.allowed_ip_ranges) > 0
    target_port                = 8080 # MLflow's scoring server
    transport                  = "http"
    allow_insecure_connections = false

    dynamic "ip_security_restriction" {
      for_each = var.allowed_ip_ranges
      content {
        name             = "allow-${ip_security_restriction.key}"
        action           = "Allow"
        ip_address_range = ip_security_restriction.value
      }
    }

    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }

  template {
    min_replicas = local.env.min_replicas
    max_replicas = local.env.max_replicas

    container {
      name   = "model"
      image  = "${local.project.registry_login_server}/model:${var.image_tag}"
      cpu    = local.env.cpu
      memory = local.env.memory

      env {
        name  = "AZURE_CLIENT_ID" # DefaultAzureCredential picks the serving identity
        value = local.project.serving_client_id
      }

      # Loading the model can take a while: up to 2 minutes before the revision counts as failed.
      startup_probe {
        transport               = "HTTP"
        port                    = 8080
        path                    = "/ping"
        interval_seconds        = 10
        failure_count_threshold = 12
      }

      readiness_probe {
        transport = "HTTP"
        port      = 8080
        path      = "/ping"
      }
    }

    http_scale_rule {
      name                = "http"
      concurrent_requests = "10"
    }
  }
}

# Container Apps metrics (namespace Microsoft.App/containerApps): Requests split by
# statusCodeCategory, and ResponseTime (average per minute, in milliseconds; a preview metric,
# no percentiles). A metric alert counts, it cannot divide: the 5xx threshold is a count.
resource "azurerm_monitor_metric_alert" "errors_5xx" {
  count = local.serve ? 1 : 0

  name                = "${local.name}-5xx"
  resource_group_name = local.project.resource_group
  scopes              = [azurerm_container_app.model[0].id]
  description         = "The model app ${local.name} answers server errors. See the runbooks in docs/ (incident, rollback)."
  severity            = local.environment == "prod" ? 1 : 2
  frequency           = "PT1M"
  window_size         = "PT5M"
  tags                = local.tags

  criteria {
    metric_namespace = "Microsoft.App/containerApps"
    metric_name      = "Requests"
    aggregation      = "Total"
    operator         = "GreaterThan"
    threshold        = local.env.errors_5xx_per_5m

    dimension {
      name     = "statusCodeCategory"
      operator = "Include"
      values   = ["5xx"]
    }
  }

  action {
    action_group_id = local.project.action_group_id
  }
}

resource "azurerm_monitor_metric_alert" "latency" {
  count = local.serve ? 1 : 0

  name                = "${local.name}-latency"
  resource_group_name = local.project.resource_group
  scopes              = [azurerm_container_app.model[0].id]
  description         = "The model app ${local.name} is slow (average above ${local.env.latency_avg_ms} ms for 15 minutes). See the runbooks in docs/ (incident)."
  severity            = local.environment == "prod" ? 2 : 3
  frequency           = "PT5M"
  window_size         = "PT15M"
  tags                = local.tags

  criteria {
    metric_namespace = "Microsoft.App/containerApps"
    metric_name      = "ResponseTime"
    aggregation      = "Average"
    operator         = "GreaterThan"
    threshold        = local.env.latency_avg_ms
  }

  action {
    action_group_id = local.project.action_group_id
  }
}
