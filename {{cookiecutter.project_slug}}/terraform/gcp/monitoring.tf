# Where this project's alerts go: one e-mail channel per address (the owner and var.alert_emails),
# used by the serving alert policies (serving/) and the budget.
resource "google_monitoring_notification_channel" "email" {
  for_each = toset(local.alert_emails)

  display_name = "${local.answers.project} alerts: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value # channel settings, not resource labels
  }
}

# Monthly budget of everything labelled project=<slug>, across the billing account's projects
# (every resource here carries the label through default_labels). Budgets live on the billing
# account, not in the project: whoever applies needs roles/billing.costsManager there (and
# plan, roles/billing.viewer), granted by a billing admin. Empty billing_account: no budget.
resource "google_billing_budget" "project" {
  count = var.billing_account == "" ? 0 : 1

  billing_account = var.billing_account
  display_name    = substr("${local.answers.project} monthly", 0, 60)

  budget_filter {
    labels          = { project = local.answers.project } # the API takes one label
    calendar_period = "MONTH"
  }

  amount {
    specified_amount {
      units = tostring(var.monthly_budget) # the billing account's currency
    }
  }

  threshold_rules {
    threshold_percent = 0.8
    spend_basis       = "CURRENT_SPEND"
  }

  threshold_rules {
    threshold_percent = 1.0
    spend_basis       = "FORECASTED_SPEND"
  }

  all_updates_rule {
    # A budget takes 5 channels at most.
    monitoring_notification_channels = slice(local.channel_ids, 0, min(5, length(local.channel_ids)))
  }
}

locals {
  channel_ids = [for channel in google_monitoring_notification_channel.email : channel.id]
}
