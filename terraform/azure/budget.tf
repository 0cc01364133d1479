# Monthly budget of the subscription (everything in it, projects included), alerting through
# one action group that other platform and project alerts can reuse (output action_group_id).

resource "azurerm_monitor_action_group" "platform" {
  name                = "${var.name_prefix}-alerts"
  resource_group_name = azurerm_resource_group.platform.name
  short_name          = substr(replace(var.name_prefix, "-", ""), 0, 12)

  dynamic "email_receiver" {
    for_each = toset(var.alert_emails)
    content {
      name                    = "email-${email_receiver.key}"
      email_address           = email_receiver.key
      use_common_alert_schema = true
    }
  }

  tags = local.tags
}

resource "azurerm_consumption_budget_subscription" "platform" {
  name            = "${var.name_prefix}-monthly"
  subscription_id = "/subscriptions/${var.subscription_id}"
  amount          = var.monthly_budget
  time_grain      = "Monthly"

  # Budgets start on the first of a month; the start never changes afterwards.
  time_period {
    start_date = formatdate("YYYY-MM-01'T'00:00:00Z", plantimestamp())
  }

  # 50%, 90% and 100% of actual spend, and 100% of the forecast for the month.
  dynamic "notification" {
    for_each = [
      { threshold = 50, type = "Actual" },
      { threshold = 90, type = "Actual" },
      { threshold = 100, type = "Actual" },
      { threshold = 100, type = "Forecasted" },
    ]
    content {
      threshold      = notification.value.threshold
      threshold_type = notification.value.type
      operator       = "GreaterThanOrEqualTo"
      contact_groups = [azurerm_monitor_action_group.platform.id]
    }
  }

  lifecycle {
    ignore_changes = [time_period]
  }
}
