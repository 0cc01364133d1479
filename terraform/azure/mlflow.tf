# Shared MLflow tracking server (tracking + model registry) on Azure Container Apps, scaled to
# zero when idle. Ingress is public (GitHub-hosted runners and laptops call it), and Container
# Apps authentication (mlflow_auth.tf) refuses every request without an Entra ID token issued
# for the server's application: HTTP 401, before MLflow sees it.
#
# Artifacts of experiments without their own location go to
# wasbs://mlflow@<mlflow account>.blob.core.windows.net/mlflow, proxied by the server. Projects
# that log to their own storage grant mlflow_principal_id Storage Blob Data Reader (or
# Contributor) there so the UI can show the files.

locals {
  mlflow_name = "mlflow"
  # External apps answer on <app>.<environment default domain>; known before the app exists,
  # so the app's own arguments and the Entra redirect URI can use it.
  mlflow_fqdn = "${local.mlflow_name}.${azurerm_container_app_environment.platform.default_domain}"
}

resource "azurerm_user_assigned_identity" "mlflow" {
  name                = "mlflow-server"
  location            = var.region
  resource_group_name = azurerm_resource_group.platform.name
  tags                = local.tags
}

resource "azurerm_role_assignment" "mlflow" {
  for_each = {
    artifacts = { scope = azurerm_storage_container.platform["mlflow"].id, role = "Storage Blob Data Contributor" }
    db_secret = { scope = azurerm_key_vault_secret.mlflow_db_password.resource_versionless_id, role = "Key Vault Secrets User" }
  }

  scope                = each.value.scope
  role_definition_name = each.value.role
  principal_id         = azurerm_user_assigned_identity.mlflow.principal_id
  principal_type       = "ServicePrincipal"
}

# Workload-profiles environment in the VNet: the Consumption profile bills per request like the
# classic one, and its subnet can be small.
resource "azurerm_container_app_environment" "platform" {
  name                       = "${var.name_prefix}-apps"
  location                   = var.region
  resource_group_name        = azurerm_resource_group.platform.name
  infrastructure_subnet_id   = azurerm_subnet.apps.id
  logs_destination           = "log-analytics"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.platform.id

  workload_profile {
    name                  = "Consumption"
    workload_profile_type = "Consumption"
  }

  tags = local.tags
}

resource "azurerm_container_app" "mlflow" {
  name                         = local.mlflow_name
  container_app_environment_id = azurerm_container_app_environment.platform.id
  resource_group_name          = azurerm_resource_group.platform.name
  revision_mode                = "Single"
  workload_profile_name        = "Consumption"

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.mlflow.id]
  }

  # Versionless: a rotated password reaches the app within 30 minutes.
  secret {
    name                = "db-password"
    identity            = azurerm_user_assigned_identity.mlflow.id
    key_vault_secret_id = azurerm_key_vault_secret.mlflow_db_password.versionless_id
  }

  ingress {
    external_enabled           = true
    target_port                = 5000
    allow_insecure_connections = false
    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }

  template {
    min_replicas = 0
    max_replicas = var.mlflow_max_replicas

    container {
      name    = "mlflow"
      image   = var.mlflow_image
      cpu     = 1
      memory  = "2Gi"
      command = ["mlflow"]
      # The URI carries no password: libpq reads PGPASSWORD. --allowed-hosts is MLflow's
      # DNS-rebinding guard: only the app's own name.
      args = [
        "server",
        "--backend-store-uri", "postgresql://${azurerm_postgresql_flexible_server.mlflow.administrator_login}@${azurerm_postgresql_flexible_server.mlflow.fqdn}:5432/${azurerm_postgresql_flexible_server_database.mlflow.name}?sslmode=require",
        "--artifacts-destination", "wasbs://${azurerm_storage_container.platform["mlflow"].name}@${azurerm_storage_account.platform["mlflow"].name}.blob.core.windows.net/mlflow",
        "--host", "0.0.0.0",
        "--port", "5000",
        "--workers", "2",
        "--allowed-hosts", local.mlflow_fqdn,
      ]

      env {
        name        = "PGPASSWORD"
        secret_name = "db-password"
      }
      # The Blob artifact store authenticates with DefaultAzureCredential: this picks the
      # user-assigned identity.
      env {
        name  = "AZURE_CLIENT_ID"
        value = azurerm_user_assigned_identity.mlflow.client_id
      }
      # 2 workers x (2 + 2) connections per replica: with mlflow_max_replicas at 3 this stays
      # under the 35 user connections of the smallest tier (B1ms).
      env {
        name  = "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"
        value = "2"
      }
      env {
        name  = "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"
        value = "2"
      }

      # /health skips MLflow's host check. The first start migrates the database schema.
      startup_probe {
        transport               = "HTTP"
        port                    = 5000
        path                    = "/health"
        interval_seconds        = 10
        timeout                 = 5
        failure_count_threshold = 30
      }

      liveness_probe {
        transport        = "HTTP"
        port             = 5000
        path             = "/health"
        interval_seconds = 30
        timeout          = 5
      }
    }
  }

  tags = local.tags

  depends_on = [azurerm_role_assignment.mlflow]
}
