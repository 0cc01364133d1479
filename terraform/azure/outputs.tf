# The answers project generation asks for (docs/cloud/azure.md), each also under its own name.

output "tenant_id" {
  description = "Answer azure_tenant_id: the Entra ID tenant of the subscription."
  value       = local.tenant_id
}

output "subscription_id" {
  description = "Answer azure_subscription_id."
  value       = var.subscription_id
}

output "state_resource_group" {
  description = "Answer azure_state_resource_group: resource group of the state storage account and the Key Vault."
  value       = azurerm_resource_group.state.name
}

output "state_storage_account" {
  description = "Answer tf_state_bucket: storage account holding every project's Terraform state (container tfstate)."
  value       = azurerm_storage_account.platform["tfstate"].name
}

output "key_vault_key_id" {
  description = "Answer azure_key_vault_key_id: versionless id of the data key (https://<vault>.vault.azure.net/keys/data); storage accounts that use it follow its rotation."
  value       = azurerm_key_vault_key.data.versionless_id
}

output "mlflow_tracking_url" {
  description = "Answer azure_mlflow_tracking_url: MLFLOW_TRACKING_URI, called with an Entra ID token for api://<mlflow_client_id>."
  value       = "https://${local.mlflow_fqdn}"
}

output "mlflow_client_id" {
  description = "Answer azure_mlflow_client_id: client id of the tracking server's Entra application; tokens are requested for api://<this id>."
  value       = azuread_application_registration.mlflow.client_id
}

output "mlflow_principal_id" {
  description = "Answer azure_mlflow_principal_id: principal id of the MLflow server's managed identity; projects grant it read access to their artifact storage."
  value       = azurerm_user_assigned_identity.mlflow.principal_id
}

output "action_group_id" {
  description = "Id of the alert action group (e-mails alert_emails); project alerts can notify it."
  value       = azurerm_monitor_action_group.platform.id
}

output "region" {
  description = "Answer cloud_region."
  value       = var.region
}

output "dr_region" {
  description = "Answer dr_region."
  value       = var.dr_region
}

output "cookiecutter_answers" {
  description = "Every answer above by its cookiecutter name, e.g. for a cookiecutter config file's default_context."
  value = {
    azure_tenant_id            = local.tenant_id
    azure_subscription_id      = var.subscription_id
    azure_state_resource_group = azurerm_resource_group.state.name
    azure_key_vault_key_id     = azurerm_key_vault_key.data.versionless_id
    azure_mlflow_tracking_url  = "https://${local.mlflow_fqdn}"
    azure_mlflow_client_id     = azuread_application_registration.mlflow.client_id
    azure_mlflow_principal_id  = azurerm_user_assigned_identity.mlflow.principal_id
    tf_state_bucket            = azurerm_storage_account.platform["tfstate"].name
    cloud_region               = var.region
    dr_region                  = var.dr_region
  }
}
