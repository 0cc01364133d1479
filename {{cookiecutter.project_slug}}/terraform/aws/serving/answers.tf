# The ONLY file of this root rendered by cookiecutter (see ../answers.tf).
# One state per environment: `terraform workspace select -or-create staging|production` stores the
# state under env:/<workspace>/ in the same bucket.
terraform {
  backend "s3" {
    bucket       = "{{ cookiecutter.tf_state_bucket }}"
    key          = "{{ cookiecutter.project_slug }}/aws/serving.tfstate"
    region       = "{{ cookiecutter.cloud_region }}"
    encrypt      = true
    use_lockfile = true
  }
}

locals {
  answers = {
    project         = "{{ cookiecutter.project_slug }}"
    owner           = "{{ cookiecutter.author_email }}"
    region          = "{{ cookiecutter.cloud_region }}"
    account_id      = "{{ cookiecutter.aws_account_id }}"
    tf_state_bucket = "{{ cookiecutter.tf_state_bucket }}"
  }
}
