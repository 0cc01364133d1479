variable "cost_center" {
  type        = string
  description = "Cost center billed for this project (the cost-center label)."
  default     = "ml"

  validation {
    condition     = can(regex("^[a-z0-9_-]{0,63}$", var.cost_center))
    error_message = "cost_center is a label value: lowercase letters, digits, '-' and '_', 63 at most."
  }
}

variable "monthly_budget" {
  type        = number
  description = "Monthly budget of this project (resources labelled project=<slug>), in the billing account's currency."
  default     = 300
}

variable "billing_account" {
  type        = string
  description = "Billing account id (XXXXXX-XXXXXX-XXXXXX) that holds the budget. Empty: no budget."
  default     = ""
}

variable "alert_emails" {
  type        = list(string)
  description = "Extra e-mail addresses notified of alerts and budget thresholds (the owner is always included)."
  default     = []
}

variable "noncurrent_version_days" {
  type        = number
  description = "Days a replaced object version is kept before it is deleted (data and artifacts)."
  default     = 90
}

variable "dr_replication_interval_hours" {
  type        = number
  description = "Hours between two copies of the buckets to their DR-region replicas (Storage Transfer Service allows 1 at least)."
  default     = 1

  validation {
    condition     = var.dr_replication_interval_hours >= 1 && floor(var.dr_replication_interval_hours) == var.dr_replication_interval_hours
    error_message = "dr_replication_interval_hours is a whole number of hours, 1 at least."
  }
}
