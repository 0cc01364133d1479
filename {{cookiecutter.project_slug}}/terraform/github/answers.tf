# The ONLY file of this root rendered by cookiecutter: the answers it needs, once, including
# where this cloud's project stack keeps its state (main.tf reads its repository_variables).
# An admin of the repository applies this root once (see docs/cloud/{{ cookiecutter.cloud_provider }}.md).
terraform {
{%- if cookiecutter.cloud_provider == "aws" %}
  backend "s3" {
    bucket       = "{{ cookiecutter.tf_state_bucket }}"
    key          = "{{ cookiecutter.project_slug }}/github/terraform.tfstate"
    region       = "{{ cookiecutter.cloud_region }}"
    encrypt      = true
    use_lockfile = true
  }
{%- elif cookiecutter.cloud_provider == "gcp" %}
  backend "gcs" {
    bucket = "{{ cookiecutter.tf_state_bucket }}"
    prefix = "{{ cookiecutter.project_slug }}/github"
  }
{%- elif cookiecutter.cloud_provider == "azure" %}
  backend "azurerm" {
    resource_group_name  = "{{ cookiecutter.azure_state_resource_group }}"
    storage_account_name = "{{ cookiecutter.tf_state_bucket }}"
    container_name       = "tfstate"
    key                  = "{{ cookiecutter.project_slug }}/github.tfstate"
    use_azuread_auth     = true
  }
{%- endif %}
}

locals {
  answers = {
    github_owner    = "{{ cookiecutter.github_owner }}"
    repository      = "{{ cookiecutter.project_slug }}"
    code_owners     = "{{ cookiecutter.code_owners }}"
    tf_state_bucket = "{{ cookiecutter.tf_state_bucket }}"
    # The project stack's backend, as in terraform/{{ cookiecutter.cloud_provider }}/answers.tf.
{%- if cookiecutter.cloud_provider == "aws" %}
    project_state_backend = "s3"
    project_state = {
      bucket = "{{ cookiecutter.tf_state_bucket }}"
      key    = "{{ cookiecutter.project_slug }}/aws/project.tfstate"
      region = "{{ cookiecutter.cloud_region }}"
    }
{%- elif cookiecutter.cloud_provider == "gcp" %}
    project_state_backend = "gcs"
    project_state = {
      bucket = "{{ cookiecutter.tf_state_bucket }}"
      prefix = "{{ cookiecutter.project_slug }}/gcp/project"
    }
{%- elif cookiecutter.cloud_provider == "azure" %}
    project_state_backend = "azurerm"
    project_state = {
      resource_group_name  = "{{ cookiecutter.azure_state_resource_group }}"
      storage_account_name = "{{ cookiecutter.tf_state_bucket }}"
      container_name       = "tfstate"
      key                  = "{{ cookiecutter.project_slug }}/azure/project.tfstate"
      use_azuread_auth     = true
    }
{%- endif %}
  }
}
