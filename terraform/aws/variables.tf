variable "region" {
  type        = string
  description = "Main AWS region (the cookiecutter answer cloud_region)."
  default     = "eu-west-1"
}

variable "dr_region" {
  type        = string
  description = "Disaster-recovery region: replicas of the state and MLflow artifact buckets, and of the KMS keys."
  default     = "eu-central-1"

  validation {
    condition     = var.dr_region != var.region
    error_message = "dr_region must differ from region."
  }
}

variable "state_bucket_name" {
  type        = string
  description = "Name of the Terraform state bucket (the cookiecutter answer tf_state_bucket)."
}

variable "create_github_oidc_provider" {
  type        = bool
  description = "true: create the account's GitHub Actions OIDC provider (token.actions.githubusercontent.com). false: the account already has it (IAM allows one per URL; creating another fails with EntityAlreadyExists), so look it up and reuse it."
  default     = true
}

variable "name_prefix" {
  type        = string
  description = "Prefix of platform resource names (lowercase, digits, hyphens)."
  default     = "mlops-platform"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix: 3-32 lowercase letters, digits or hyphens."
  }
}

variable "owner" {
  type        = string
  description = "Team that owns the platform (the owner tag)."
  default     = "platform-team"
}

variable "cost_center" {
  type        = string
  description = "Cost center billed for the platform (the cost-center tag)."
  default     = "mlops"
}

variable "mlflow_server_size" {
  type        = string
  description = "SageMaker MLflow tracking server size: Small, Medium or Large."
  default     = "Small"

  validation {
    condition     = contains(["Small", "Medium", "Large"], var.mlflow_server_size)
    error_message = "mlflow_server_size must be Small, Medium or Large."
  }
}

variable "mlflow_version" {
  type        = string
  description = "MLflow version of the managed tracking server."
  default     = "3.0"
}

variable "monthly_budget_usd" {
  type        = number
  description = "Monthly cost budget of the whole account, in USD; alerts at 80% actual and 100% forecast."
  default     = 500
}

variable "budget_alert_emails" {
  type        = list(string)
  description = "E-mail addresses that receive budget alerts."
}
