# The ONLY file of this root rendered by cookiecutter: the answers it needs, once.
# An admin of the repository applies this root once (see docs/cloud/aws.md).
{%- if cookiecutter.cloud_provider == "aws" %}
terraform {
  backend "s3" {
    bucket       = "{{ cookiecutter.tf_state_bucket }}"
    key          = "{{ cookiecutter.project_slug }}/github/terraform.tfstate"
    region       = "{{ cookiecutter.cloud_region }}"
    encrypt      = true
    use_lockfile = true
  }
}
{%- endif %}

locals {
  answers = {
    github_owner    = "{{ cookiecutter.github_owner }}"
    repository      = "{{ cookiecutter.project_slug }}"
    code_owners     = "{{ cookiecutter.code_owners }}"
    project         = "{{ cookiecutter.project_slug }}"
    cloud_region    = "{{ cookiecutter.cloud_region }}"
    tf_state_bucket = "{{ cookiecutter.tf_state_bucket }}"
  }
}
