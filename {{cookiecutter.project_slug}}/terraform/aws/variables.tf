variable "cost_center" {
  type        = string
  description = "Cost center billed for this project (the cost-center tag)."
  default     = "ml"
}

variable "monthly_budget_usd" {
  type        = number
  description = "Monthly budget of this project (resources tagged project=<slug>), in USD."
  default     = 300
}

variable "alert_emails" {
  type        = list(string)
  description = "Extra e-mail addresses subscribed to alarms and budget alerts (the owner is always included)."
  default     = []
}

variable "noncurrent_version_days" {
  type        = number
  description = "Days a replaced object version is kept before it expires (data and artifacts)."
  default     = 90
}
