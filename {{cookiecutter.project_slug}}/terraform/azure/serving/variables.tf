variable "environments" {
  description = "Serving settings per workspace: replica bounds (min 0 scales to zero), container size, log retention and alert thresholds."
  type = map(object({
    min_replicas       = number
    max_replicas       = number # bounds the cost of a traffic spike
    cpu                = number # consumption plan pairs: 0.5/1Gi, 1/2Gi, 2/4Gi
    memory             = string
    log_retention_days = number # Log Analytics: 30 to 730
    log_daily_quota_gb = number
    latency_avg_ms     = number # alert threshold: average response time
    errors_5xx_per_5m  = number # alert threshold: 5xx answers in 5 minutes
  }))
  default = {
    dev = {
      min_replicas       = 0
      max_replicas       = 2
      cpu                = 1
      memory             = "2Gi"
      log_retention_days = 30
      log_daily_quota_gb = 0.5
      latency_avg_ms     = 2000
      errors_5xx_per_5m  = 10
    }
    prod = {
      min_replicas       = 0
      max_replicas       = 10
      cpu                = 2
      memory             = "4Gi"
      log_retention_days = 90
      log_daily_quota_gb = 2
      latency_avg_ms     = 500
      errors_5xx_per_5m  = 5
    }
  }
}

variable "image_tag" {
  type        = string
  description = "Tag of the model's serving image (<registry>/model:<tag>), set by the promotion workflow. Empty: no app yet."
  default     = ""
}

variable "allowed_ip_ranges" {
  type        = list(string)
  description = "CIDR ranges allowed to call the model from outside the environment. Empty: internal ingress only (apps of the same environment)."
  default     = []

  validation {
    condition     = alltrue([for range in var.allowed_ip_ranges : can(cidrhost(range, 0)) && !contains(["0.0.0.0/0", "::/0"], range)])
    error_message = "allowed_ip_ranges are CIDR ranges, and the model is not public: name the callers, not 0.0.0.0/0."
  }
}

variable "cost_center" {
  type        = string
  description = "Cost center billed for this project (the cost-center tag)."
  default     = "ml"
}
