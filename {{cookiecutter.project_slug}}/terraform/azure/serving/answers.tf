# The ONLY file of this root rendered by cookiecutter (see ../answers.tf).
# One state per environment: `terraform workspace select -or-create staging|production` stores the
# state as <key>env:<workspace> in the same container.
terraform {
  backend "azurerm" {
    resource_group_name  = "{{ cookiecutter.azure_state_resource_group }}"
    storage_account_name = "{{ cookiecutter.tf_state_bucket }}"
    container_name       = "tfstate"
    key                  = "{{ cookiecutter.project_slug }}/azure/serving.tfstate"
    use_azuread_auth     = true
  }
}

locals {
  answers = {
    project              = "{{ cookiecutter.project_slug }}"
    owner                = "{{ cookiecutter.author_email }}"
    region               = "{{ cookiecutter.cloud_region }}"
    subscription_id      = "{{ cookiecutter.azure_subscription_id }}"
    tf_state_bucket      = "{{ cookiecutter.tf_state_bucket }}"
    state_resource_group = "{{ cookiecutter.azure_state_resource_group }}"
  }
}
