# APIs this stack and the project stacks use. Left enabled on destroy: the project stacks
# depend on them. The first apply needs two enabled beforehand (the provider calls them with
# this project as quota project):
#   gcloud services enable serviceusage.googleapis.com cloudresourcemanager.googleapis.com --project <project_id>
locals {
  apis = [
    "artifactregistry.googleapis.com",
    "billingbudgets.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com", # CI service accounts impersonated through workload identity
    "monitoring.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
    "storagetransfer.googleapis.com", # projects copy their buckets to dr_region
    "sts.googleapis.com",             # GitHub OIDC token exchange
  ]
}

resource "google_project_service" "main" {
  for_each = toset(local.apis)

  service            = each.key
  disable_on_destroy = false
}
