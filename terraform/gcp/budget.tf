# Monthly budget of this project, only when billing_account is set: budgets live on the billing
# account, so applying them needs billing-account rights (roles/billing.costsManager) that a
# project owner may not have. Billing admins get every alert by default; budget_alert_emails
# get them too, through Cloud Monitoring e-mail channels.
locals {
  budget_enabled = var.billing_account != ""
}

resource "google_monitoring_notification_channel" "budget" {
  for_each = local.budget_enabled ? toset(var.budget_alert_emails) : toset([])

  display_name = "Budget alerts to ${each.key}"
  type         = "email"
  labels = {
    email_address = each.key
  }

  depends_on = [google_project_service.main]
}

resource "google_billing_budget" "project" {
  count = local.budget_enabled ? 1 : 0

  billing_account = var.billing_account
  display_name    = "${var.name_prefix} monthly"

  budget_filter {
    projects        = ["projects/${local.project_number}"]
    calendar_period = "MONTH"
  }

  # No currency_code: the amount is in the billing account's currency.
  amount {
    specified_amount {
      units = tostring(var.monthly_budget)
    }
  }

  # 50%, 90% and 100% of actual spend, and 100% of the forecast for the month.
  dynamic "threshold_rules" {
    for_each = [
      { percent = 0.5, basis = "CURRENT_SPEND" },
      { percent = 0.9, basis = "CURRENT_SPEND" },
      { percent = 1.0, basis = "CURRENT_SPEND" },
      { percent = 1.0, basis = "FORECASTED_SPEND" },
    ]
    content {
      threshold_percent = threshold_rules.value.percent
      spend_basis       = threshold_rules.value.basis
    }
  }

  all_updates_rule {
    monitoring_notification_channels = [for channel in google_monitoring_notification_channel.budget : channel.id]
  }

  depends_on = [google_project_service.main]
}
