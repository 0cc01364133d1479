provider "google" {
  project        = local.answers.project_id
  region         = local.answers.region
  default_labels = local.labels
}

# Disaster-recovery region: bucket replicas.
provider "google" {
  alias          = "dr"
  project        = local.answers.project_id
  region         = local.answers.dr_region
  default_labels = local.labels
}
