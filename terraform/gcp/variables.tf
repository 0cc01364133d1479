variable "project_id" {
  type        = string
  description = "Google Cloud project the platform lives in (the cookiecutter answer gcp_project_id)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id: a Google Cloud project id (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "region" {
  type        = string
  description = "Main region (the cookiecutter answer cloud_region)."
  default     = "europe-west1"
}

variable "dr_region" {
  type        = string
  description = "Disaster-recovery region: its key ring holds the data key for the projects' DR copies."
  default     = "europe-west4"

  validation {
    condition     = var.dr_region != var.region
    error_message = "dr_region must differ from region."
  }
}

variable "state_bucket_name" {
  type        = string
  description = "Name of the Terraform state bucket (the cookiecutter answer tf_state_bucket); globally unique."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name: 3-63 lowercase letters, digits, hyphens or underscores."
  }
}

variable "github_owner_id" {
  type        = string
  description = "Numeric id of the GitHub organisation or user whose workflows may authenticate (gh api orgs/<org> --jq .id, or users/<user>)."

  validation {
    condition     = can(regex("^[0-9]+$", var.github_owner_id))
    error_message = "github_owner_id: the numeric owner id (digits only), not the owner's name."
  }
}

variable "workload_identity_pool_id" {
  type        = string
  description = "Id of the workload identity pool. A deleted pool's id stays taken for 30 days: pick another to recreate sooner."
  default     = "github"

  validation {
    condition     = can(regex("^[a-z0-9-]{4,32}$", var.workload_identity_pool_id)) && !startswith(var.workload_identity_pool_id, "gcp-")
    error_message = "workload_identity_pool_id: 4-32 lowercase letters, digits or hyphens, not starting with gcp-."
  }
}

variable "name_prefix" {
  type        = string
  description = "Name of the platform: the project label and the budget's name (lowercase, digits, hyphens)."
  default     = "mlops-platform"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix: 3-32 lowercase letters, digits or hyphens."
  }
}

variable "owner" {
  type        = string
  description = "Team that owns the platform (the owner label; lowercase)."
  default     = "platform-team"

  validation {
    condition     = can(regex("^[a-z0-9_-]{1,63}$", var.owner))
    error_message = "owner: a label value, 1-63 lowercase letters, digits, hyphens or underscores."
  }
}

variable "cost_center" {
  type        = string
  description = "Cost center billed for the platform (the cost-center label; lowercase)."
  default     = "mlops"

  validation {
    condition     = can(regex("^[a-z0-9_-]{1,63}$", var.cost_center))
    error_message = "cost_center: a label value, 1-63 lowercase letters, digits, hyphens or underscores."
  }
}

variable "mlflow_image" {
  type        = string
  description = "MLflow server image, pinned by tag or digest. Needs PostgreSQL and Google Cloud Storage support (the -full variant). ghcr.io images are pulled through an Artifact Registry remote repository."
  default     = "ghcr.io/mlflow/mlflow:v3.17.2-full"

  validation {
    condition     = can(regex("/[^/:@]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$", var.mlflow_image)) && !endswith(var.mlflow_image, ":latest")
    error_message = "mlflow_image: a pinned reference (registry/path:tag or @sha256:digest), not :latest."
  }
}

variable "mlflow_max_instances" {
  type        = number
  description = "Most Cloud Run instances the MLflow service scales out to (it scales to zero when idle)."
  default     = 3

  validation {
    condition     = var.mlflow_max_instances >= 1 && var.mlflow_max_instances <= 10
    error_message = "mlflow_max_instances: 1 to 10 (each instance holds up to 12 database connections)."
  }
}

variable "mlflow_invokers" {
  type        = list(string)
  description = "People who may open the MLflow UI (roles/run.invoker), e.g. [\"group:ml-team@example.com\"]. Project CI service accounts are granted by the project stacks."
  default     = []

  validation {
    condition     = alltrue([for m in var.mlflow_invokers : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):", m))])
    error_message = "mlflow_invokers: IAM principals such as user:..., group:... or serviceAccount:... (no allUsers/allAuthenticatedUsers)."
  }
}

variable "mlflow_db_tier" {
  type        = string
  description = "Cloud SQL machine tier of the MLflow database (Enterprise edition), e.g. db-custom-1-3840 (1 vCPU, 3.75 GB)."
  default     = "db-custom-1-3840"
}

variable "mlflow_db_high_availability" {
  type        = bool
  description = "true: a standby in a second zone (REGIONAL), about twice the cost. false: one zone; recovery from backups."
  default     = false
}

variable "mlflow_subnet_cidr" {
  type        = string
  description = "Range of the subnet the MLflow service's VPC egress uses (at least a /26); any range free in your network plan."
  default     = "10.10.0.0/24"

  validation {
    condition     = can(cidrnetmask(var.mlflow_subnet_cidr)) && try(tonumber(split("/", var.mlflow_subnet_cidr)[1]) <= 26, false)
    error_message = "mlflow_subnet_cidr: an IPv4 CIDR range of /26 or larger."
  }
}

variable "billing_account" {
  type        = string
  description = "Billing account id (XXXXXX-XXXXXX-XXXXXX) for the monthly budget; empty: no budget (creating one needs billing-account rights)."
  default     = ""

  validation {
    condition     = var.billing_account == "" || can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", var.billing_account))
    error_message = "billing_account: empty, or an id like 012345-6789AB-CDEF01."
  }
}

variable "monthly_budget" {
  type        = number
  description = "Monthly budget of the project, in the billing account's currency; alerts at 50%, 90%, 100% of actual and 100% of forecast spend."
  default     = 500
}

variable "budget_alert_emails" {
  type        = list(string)
  description = "E-mail addresses that receive budget alerts besides the billing account's admins (at most 5)."
  default     = []

  validation {
    condition     = length(var.budget_alert_emails) <= 5
    error_message = "budget_alert_emails: a budget notifies at most 5 channels."
  }
}
