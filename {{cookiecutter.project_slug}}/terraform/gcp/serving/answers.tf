# The ONLY file of this root rendered by cookiecutter (see ../answers.tf).
# One state per environment: `terraform workspace select -or-create staging|production` stores the
# state as <prefix>/<workspace>.tfstate in the same bucket.
terraform {
  backend "gcs" {
    bucket = "{{ cookiecutter.tf_state_bucket }}"
    prefix = "{{ cookiecutter.project_slug }}/gcp/serving"
  }
}

locals {
  answers = {
    project         = "{{ cookiecutter.project_slug }}"
    owner           = "{{ cookiecutter.author_email }}"
    region          = "{{ cookiecutter.cloud_region }}"
    project_id      = "{{ cookiecutter.gcp_project_id }}"
    tf_state_bucket = "{{ cookiecutter.tf_state_bucket }}"
  }
}
