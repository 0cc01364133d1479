# The ONLY file of this root rendered by cookiecutter: every generation answer this stack
# needs is here, once. All other .tf files reference local.answers.* and contain no Jinja.
terraform {
  backend "s3" {
    bucket       = "{{ cookiecutter.tf_state_bucket }}"
    key          = "{{ cookiecutter.project_slug }}/aws/project.tfstate"
    region       = "{{ cookiecutter.cloud_region }}"
    encrypt      = true
    use_lockfile = true
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
    account_id                 = "{{ cookiecutter.aws_account_id }}"
    tf_state_bucket            = "{{ cookiecutter.tf_state_bucket }}"
    oidc_provider_arn          = "{{ cookiecutter.aws_oidc_provider_arn }}"
    kms_key_arn                = "{{ cookiecutter.aws_kms_key_arn }}"
    mlflow_tracking_server_arn = "{{ cookiecutter.aws_mlflow_tracking_server_arn }}"
  }
}
