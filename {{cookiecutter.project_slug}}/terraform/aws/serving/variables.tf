variable "environments" {
  description = "Serving settings per workspace. dev: serverless (scales to zero, no data capture); prod: provisioned instances with data capture and autoscaling."
  type = map(object({
    serverless       = bool
    memory_mb        = number # serverless only
    max_concurrency  = number # serverless only
    instance_type    = string # provisioned only
    min_instances    = number # provisioned only
    max_instances    = number # provisioned only
    capture_percent  = number # provisioned only: share of requests captured for drift monitoring
    latency_p95_ms   = number # alarm threshold
    error_5xx_per_5m = number # alarm threshold
  }))
  default = {
    dev = {
      serverless     = true, memory_mb = 2048, max_concurrency = 5,
      instance_type  = "ml.m5.large", min_instances = 1, max_instances = 1, capture_percent = 0,
      latency_p95_ms = 2000, error_5xx_per_5m = 5
    }
    prod = {
      serverless     = false, memory_mb = 2048, max_concurrency = 5,
      instance_type  = "ml.m5.large", min_instances = 1, max_instances = 4, capture_percent = 100,
      latency_p95_ms = 500, error_5xx_per_5m = 1
    }
  }
}

variable "model_data_url" {
  type        = string
  description = "S3 URL of the promoted model's model.tar.gz in the artifact bucket, set by the promotion workflow. Empty: no endpoint yet."
  default     = ""
}

variable "image_tag" {
  type        = string
  description = "Tag of the MLflow pyfunc serving image in the project's ECR repository."
  default     = "latest-mlflow"
}

variable "cost_center" {
  type        = string
  description = "Cost center billed for this project (the cost-center tag)."
  default     = "ml"
}
