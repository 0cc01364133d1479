# The ONLY file of this root rendered by cookiecutter: every generation answer this stack
# needs is here, once. All other .tf files reference local.answers.* and contain no Jinja.
terraform {
  backend "gcs" {
    bucket = "{{ cookiecutter.tf_state_bucket }}"
    prefix = "{{ cookiecutter.project_slug }}/gcp/project"
  }
}

locals {
  answers = {
    project                    = "{{ cookiecutter.project_slug }}"
    repository                 = "{{ cookiecutter.github_owner }}/{{ cookiecutter.project_slug }}"
    owner                      = "{{ cookiecutter.author_email }}"
    region                     = "{{ cookiecutter.cloud_region }}"
    dr_region                  = "{{ cookiecutter.dr_region }}"
    storage_prefix             = "{{ cookiecutter.storage_prefix }}"
    tf_state_bucket            = "{{ cookiecutter.tf_state_bucket }}"
    project_id                 = "{{ cookiecutter.gcp_project_id }}"
    workload_identity_provider = "{{ cookiecutter.gcp_workload_identity_provider }}"
    kms_key                    = "{{ cookiecutter.gcp_kms_key }}"
    mlflow_service             = "{{ cookiecutter.gcp_mlflow_service }}"
    mlflow_tracking_url        = "{{ cookiecutter.gcp_mlflow_tracking_url }}"
  }
}
