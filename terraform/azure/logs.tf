# One Log Analytics workspace for the platform: Container Apps logs, and the audit trail of the
# storage accounts, the Key Vault and the database, kept log_retention_days.

resource "azurerm_log_analytics_workspace" "platform" {
  name                = "${var.name_prefix}-logs"
  location            = var.region
  resource_group_name = azurerm_resource_group.platform.name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  # Local (key) authentication stays on: the Container Apps environment ships its logs with the
  # workspace key.
  tags = local.tags
}

locals {
  blob_log_categories = ["StorageRead", "StorageWrite", "StorageDelete"]
  audited = {
    key_vault    = { id = azurerm_key_vault.platform.id, categories = ["AuditEvent"] }
    state_blobs  = { id = "${azurerm_storage_account.platform["tfstate"].id}/blobServices/default", categories = local.blob_log_categories }
    mlflow_blobs = { id = "${azurerm_storage_account.platform["mlflow"].id}/blobServices/default", categories = local.blob_log_categories }
    mlflow_db    = { id = azurerm_postgresql_flexible_server.mlflow.id, categories = ["PostgreSQLLogs"] }
  }
}

resource "azurerm_monitor_diagnostic_setting" "audit" {
  for_each = local.audited

  name                       = "audit-to-log-analytics"
  target_resource_id         = each.value.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.platform.id

  dynamic "enabled_log" {
    for_each = toset(each.value.categories)
    content {
      category = enabled_log.key
    }
  }
}
