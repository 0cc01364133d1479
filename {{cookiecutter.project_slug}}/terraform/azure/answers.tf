# The ONLY file of this root rendered by cookiecutter: every generation answer this stack
# needs is here, once. All other .tf files reference local.answers.* and contain no Jinja.
terraform {
  backend "azurerm" {
    resource_group_name  = "{{ cookiecutter.azure_state_resource_group }}"
    storage_account_name = "{{ cookiecutter.tf_state_bucket }}"
    container_name       = "tfstate"
    key                  = "{{ cookiecutter.project_slug }}/azure/project.tfstate"
    use_azuread_auth     = true
  }
}

locals {
  answers = {
    project              = "{{ cookiecutter.project_slug }}"
    repository           = "{{ cookiecutter.github_owner }}/{{ cookiecutter.project_slug }}"
    owner                = "{{ cookiecutter.author_email }}"
    region               = "{{ cookiecutter.cloud_region }}"
    dr_region            = "{{ cookiecutter.dr_region }}"
    storage_account      = "{{ cookiecutter.storage_prefix | replace('-', '') }}"
    tf_state_bucket      = "{{ cookiecutter.tf_state_bucket }}"
    state_resource_group = "{{ cookiecutter.azure_state_resource_group }}"
    tenant_id            = "{{ cookiecutter.azure_tenant_id }}"
    subscription_id      = "{{ cookiecutter.azure_subscription_id }}"
    key_vault_key_id     = "{{ cookiecutter.azure_key_vault_key_id }}"
    mlflow_tracking_url  = "{{ cookiecutter.azure_mlflow_tracking_url }}"
    mlflow_client_id     = "{{ cookiecutter.azure_mlflow_client_id }}"
    mlflow_principal_id  = "{{ cookiecutter.azure_mlflow_principal_id }}"
  }
}
