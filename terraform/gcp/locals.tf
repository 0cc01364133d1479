locals {
  # The five standard labels, on every labelled resource through default_labels. Google Cloud
  # accepts lowercase letters, digits, "-" and "_" only (the variables validate this).
  labels = {
    project       = var.name_prefix
    environment   = "platform"
    owner         = var.owner
    "cost-center" = var.cost_center
    "managed-by"  = "terraform"
  }

  project_number = data.google_project.this.number

  # Key rings in both regions: projects put their DR copies under the dr_region one.
  regions = {
    main = var.region
    dr   = var.dr_region
  }

  gcs_agent = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

data "google_project" "this" {
  project_id = var.project_id
}

# Reading it also creates the Cloud Storage service agent, which encrypts with the CMEK keys.
data "google_storage_project_service_account" "gcs" {}
