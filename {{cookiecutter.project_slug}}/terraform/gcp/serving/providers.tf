provider "google" {
  project        = local.answers.project_id
  region         = local.answers.region
  default_labels = local.labels
}
