variable "environments" {
  description = "Serving settings per workspace: instance bounds (min 0 scales to zero), container size, and alert thresholds."
  type = map(object({
    min_instances   = number
    max_instances   = number # bounds the cost of a traffic spike
    cpu             = string
    memory          = string
    latency_p95_ms  = number # alert threshold
    error_5xx_ratio = number # alert threshold: share of requests answered 5xx
  }))
  default = {
    dev = {
      min_instances   = 0
      max_instances   = 2
      cpu             = "1"
      memory          = "2Gi"
      latency_p95_ms  = 2000
      error_5xx_ratio = 0.05
    }
    prod = {
      min_instances   = 0
      max_instances   = 10
      cpu             = "2"
      memory          = "4Gi"
      latency_p95_ms  = 500
      error_5xx_ratio = 0.01
    }
  }
}

variable "image_tag" {
  type        = string
  description = "Tag of the model's serving image (<serving_repository>/model:<tag>), set by the promotion workflow. Empty: no service yet."
  default     = ""
}

variable "invokers" {
  type        = list(string)
  description = "IAM members allowed to call the model, e.g. serviceAccount:app@<project>.iam.gserviceaccount.com."
  default     = []

  validation {
    condition     = alltrue([for member in var.invokers : !contains(["allUsers", "allAuthenticatedUsers"], member)])
    error_message = "The model is not public: name the callers, not allUsers or allAuthenticatedUsers."
  }
}

variable "cost_center" {
  type        = string
  description = "Cost center billed for this project (the cost-center label)."
  default     = "ml"

  validation {
    condition     = can(regex("^[a-z0-9_-]{0,63}$", var.cost_center))
    error_message = "cost_center is a label value: lowercase letters, digits, '-' and '_', 63 at most."
  }
}
