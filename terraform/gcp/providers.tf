# Billing budgets refuse user credentials that carry no quota project, hence billing_project and
# user_project_override (the caller needs serviceusage.services.use on project_id).
provider "google" {
  project               = var.project_id
  region                = var.region
  billing_project       = var.project_id
  user_project_override = true
  default_labels        = local.labels
}

provider "google-beta" {
  project               = var.project_id
  region                = var.region
  billing_project       = var.project_id
  user_project_override = true
  default_labels        = local.labels
}
