variable "subscription_id" {
  type        = string
  description = "Azure subscription the platform lives in (the cookiecutter answer azure_subscription_id)."

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.subscription_id))
    error_message = "subscription_id: a subscription GUID in lowercase, e.g. 00000000-0000-0000-0000-000000000000."
  }
}

variable "region" {
  type        = string
  description = "Main Azure region (the cookiecutter answer cloud_region)."
  default     = "westeurope"
}

variable "dr_region" {
  type        = string
  description = "Disaster-recovery region handed to projects (where they replicate their data). The platform's own GRS copies and geo-backups go to the region's Azure pair, which the default matches."
  default     = "northeurope"

  validation {
    condition     = var.dr_region != var.region
    error_message = "dr_region must differ from region."
  }
}

variable "name_prefix" {
  type        = string
  description = "Name of the platform: the project tag, the platform resource group and a prefix of resource names (lowercase, digits, hyphens)."
  default     = "mlops-platform"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix: 3-24 lowercase letters, digits or hyphens, starting with a letter."
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

variable "state_resource_group_name" {
  type        = string
  description = "Resource group of the state storage account and the Key Vault (the cookiecutter answer azure_state_resource_group)."
  default     = "platform-tfstate"
}

variable "state_storage_account_name" {
  type        = string
  description = "Name of the Terraform state storage account (the cookiecutter answer tf_state_bucket); globally unique."

  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.state_storage_account_name))
    error_message = "state_storage_account_name: 3-24 lowercase letters or digits."
  }
}

variable "allowed_ip_ranges" {
  type        = list(string)
  description = "Public IPv4 addresses or ranges (CIDR up to /30) let through the state account's and the Key Vault's firewalls: the address of whoever applies this stack (without it Terraform cannot create the key) and CI runners with fixed egress."

  validation {
    condition     = alltrue([for r in var.allowed_ip_ranges : can(regex("^([0-9]{1,3}\\.){3}[0-9]{1,3}(/([0-9]|[12][0-9]|30))?$", r))])
    error_message = "allowed_ip_ranges: IPv4 addresses or CIDR ranges of /30 or larger (Azure Storage refuses /31 and /32; give a single address without a prefix)."
  }
}

variable "state_network_default_action" {
  type        = string
  description = "Firewall default of the state account. Deny: only allowed_ip_ranges reach it. Allow: any network, still with Entra ID only (needed by standard GitHub-hosted runners, which have no fixed addresses)."
  default     = "Deny"

  validation {
    condition     = contains(["Deny", "Allow"], var.state_network_default_action)
    error_message = "state_network_default_action must be Deny or Allow."
  }
}

variable "network_cidr" {
  type        = string
  description = "Address space of the platform VNet (a /24 or larger); half goes to Container Apps, a quarter to the database. Any range free in your network plan."
  default     = "10.20.0.0/22"

  validation {
    condition     = can(cidrnetmask(var.network_cidr)) && try(tonumber(split("/", var.network_cidr)[1]) <= 24, false)
    error_message = "network_cidr: an IPv4 CIDR range of /24 or larger."
  }
}

variable "mlflow_image" {
  type        = string
  description = "MLflow server image, pinned by tag or digest. Needs PostgreSQL and Azure Blob support (the -full variant). Container Apps pulls public ghcr.io images directly."
  default     = "ghcr.io/mlflow/mlflow:v3.17.2-full"

  validation {
    condition     = can(regex("/[^/:@]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$", var.mlflow_image)) && !endswith(var.mlflow_image, ":latest")
    error_message = "mlflow_image: a pinned reference (registry/path:tag or @sha256:digest), not :latest."
  }
}

variable "mlflow_max_replicas" {
  type        = number
  description = "Most replicas the MLflow app scales out to (it scales to zero when idle)."
  default     = 3

  validation {
    condition     = var.mlflow_max_replicas >= 1 && var.mlflow_max_replicas <= 10
    error_message = "mlflow_max_replicas: 1 to 10 (each replica holds up to 8 database connections; size mlflow_db_sku to match)."
  }
}

variable "mlflow_access_principal_ids" {
  type        = list(string)
  description = "Object ids of Entra users, groups (their users; needs Entra ID P1) or service principals such as project CI managed identities, given the MLflow.Access role: only they obtain tokens for the tracking server."
  default     = []

  validation {
    condition     = alltrue([for id in var.mlflow_access_principal_ids : can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", id))])
    error_message = "mlflow_access_principal_ids: object ids (lowercase GUIDs), not names or e-mail addresses."
  }
}

variable "mlflow_db_sku" {
  type        = string
  description = "SKU of the MLflow database server, e.g. B_Standard_B1ms (burstable, 1 vCore) or GP_Standard_D2ds_v5."
  default     = "B_Standard_B1ms"
}

variable "mlflow_db_geo_redundant_backup" {
  type        = bool
  description = "Keep the database backups also in the region's pair. Not every region offers it; fixed when the server is created."
  default     = true
}

variable "mlflow_db_entra_admin" {
  type = object({
    object_id      = string
    principal_name = string
    principal_type = string
  })
  description = "Entra ID administrator of the MLflow database (a group is best), for people who need SQL access; null: none."
  default     = null

  validation {
    condition     = try(contains(["Group", "User", "ServicePrincipal"], var.mlflow_db_entra_admin.principal_type), var.mlflow_db_entra_admin == null)
    error_message = "mlflow_db_entra_admin.principal_type must be Group, User or ServicePrincipal."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days the Log Analytics workspace keeps logs (30-730)."
  default     = 30

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days: 30 to 730."
  }
}

variable "monthly_budget" {
  type        = number
  description = "Monthly budget of the subscription, in its billing currency; alerts at 50%, 90%, 100% of actual and 100% of forecast spend."
  default     = 500
}

variable "alert_emails" {
  type        = list(string)
  description = "E-mail addresses of the alert action group (budget alerts, and any alert that uses action_group_id)."

  validation {
    condition     = length(var.alert_emails) > 0 && alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+$", e))])
    error_message = "alert_emails: at least one e-mail address."
  }
}
