# Where this project's alerts go: one action group e-mailing the owner and var.alert_emails,
# used by the serving alerts (serving/) and the budget.
resource "azurerm_monitor_action_group" "alerts" {
  name                = "ag-${local.name}"
  resource_group_name = azurerm_resource_group.project.name
  short_name          = substr(replace(local.name, "-", ""), 0, 12) # the SMS/e-mail sender name: 12 at most
  tags                = local.tags

  dynamic "email_receiver" {
    for_each = toset(local.alert_emails)
    content {
      name                    = replace(email_receiver.value, "/[^a-zA-Z0-9._-]/", "-")
      email_address           = email_receiver.value
      use_common_alert_schema = true
    }
  }
}

# Monthly budget of the project's resource group (storage, registry, serving, logs). It starts
# with the month of the first apply; later applies keep that start.
resource "azurerm_consumption_budget_resource_group" "project" {
  name              = "budget-${local.name}"
  resource_group_id = azurerm_resource_group.project.id
  amount            = var.monthly_budget # the billing account's currency
  time_grain        = "Monthly"

  time_period {
    start_date = formatdate("YYYY-MM-01'T'00:00:00Z", plantimestamp())
  }

  notification {
    enabled        = true
    threshold      = 80
    threshold_type = "Actual"
    operator       = "GreaterThan"
    contact_emails = local.alert_emails
    contact_groups = [azurerm_monitor_action_group.alerts.id]
  }

  notification {
    enabled        = true
    threshold      = 100
    threshold_type = "Forecasted"
    operator       = "GreaterThan"
    contact_emails = local.alert_emails
    contact_groups = [azurerm_monitor_action_group.alerts.id]
  }

  lifecycle {
    ignore_changes = [time_period]
  }
}

# Audit trail of the data: every read, write and delete of a blob (who, what, when), kept
# log_retention_days in a workspace without shared keys.
resource "azurerm_log_analytics_workspace" "audit" {
  name                         = "log-${local.name}-audit"
  location                     = azurerm_resource_group.project.location
  resource_group_name          = azurerm_resource_group.project.name
  sku                          = "PerGB2018"
  retention_in_days            = var.log_retention_days
  daily_quota_gb               = var.log_daily_quota_gb # bounds the cost of a runaway reader
  local_authentication_enabled = false
  tags                         = local.tags
}

resource "azurerm_monitor_diagnostic_setting" "blobs" {
  name                       = "audit"
  target_resource_id         = "${azurerm_storage_account.project.id}/blobServices/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.audit.id

  enabled_log {
    category = "StorageRead"
  }
  enabled_log {
    category = "StorageWrite"
  }
  enabled_log {
    category = "StorageDelete"
  }
}
