variable "cost_center" {
  type        = string
  description = "Cost center billed for this project (the cost-center tag)."
  default     = "ml"
}

variable "monthly_budget" {
  type        = number
  description = "Monthly budget of the project's resource group, in the billing account's currency."
  default     = 300
}

variable "alert_emails" {
  type        = list(string)
  description = "Extra e-mail addresses notified of alerts and budget thresholds (the owner is always included)."
  default     = []
}

variable "noncurrent_version_days" {
  type        = number
  description = "Days a replaced blob version is kept before it is deleted (data and artifacts)."
  default     = 90

  validation {
    condition     = var.noncurrent_version_days > var.soft_delete_days
    error_message = "noncurrent_version_days must exceed soft_delete_days: point-in-time restore needs the versions of its window."
  }
}

variable "soft_delete_days" {
  type        = number
  description = "Days a deleted blob or container stays restorable; point-in-time restore reaches one day less."
  default     = 14

  validation {
    condition     = var.soft_delete_days >= 2 && var.soft_delete_days <= 365
    error_message = "soft_delete_days is 2 to 365 (point-in-time restore needs at least one day)."
  }
}

variable "replication_type" {
  type        = string
  description = "Geo-redundancy of the storage account: GZRS (zones + paired region) where the region has zones, else GRS; RA- variants add read access to the secondary."
  default     = "GZRS"

  validation {
    condition     = contains(["GRS", "RAGRS", "GZRS", "RAGZRS"], var.replication_type)
    error_message = "replication_type is GRS, RAGRS, GZRS or RAGZRS: the data must survive a region."
  }
}

variable "registry_sku" {
  type        = string
  description = "Container Registry SKU. Standard: enough storage for serving images at a fifth of Premium's price; Premium adds a replica in dr_region, zone redundancy and untagged-manifest retention."
  default     = "Standard"

  validation {
    condition     = contains(["Standard", "Premium"], var.registry_sku)
    error_message = "registry_sku is Standard or Premium (Basic holds too few images)."
  }
}

variable "key_vault_resource_group" {
  type        = string
  description = "Resource group of the platform Key Vault holding the data key. Empty: the state's resource group."
  default     = ""
}

variable "log_retention_days" {
  type        = number
  description = "Days the blob audit logs are kept (Log Analytics: 30 to 730)."
  default     = 90
}

variable "log_daily_quota_gb" {
  type        = number
  description = "Daily ingestion cap of the audit workspace, in GB (-1: none)."
  default     = 1
}

variable "training_backend_enabled" {
  type        = bool
  description = "Create the Azure ML workspace that managed training (params.yaml train.backend: azureml) submits jobs to, with its key vault and Application Insights; the PR identity may submit jobs there. Off: no workspace, nothing billed (docs/cloud/azure.md, Managed training)."
  default     = false
}
