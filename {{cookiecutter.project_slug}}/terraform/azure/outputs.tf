# Read by serving/ and terraform/github (terraform_remote_state): the GitHub repository
# variables come from here, so no value is typed twice.

output "storage_account" {
  description = "Storage account of DVC data and MLflow artifacts (repository variables DVC_BUCKET and ARTIFACT_BUCKET)."
  value       = azurerm_storage_account.project.name
}

output "dvc_container" {
  description = "Container of the DVC remote (azure://dvc/data in .dvc/config)."
  value       = azurerm_storage_container.project["data"].name
}

output "artifact_container" {
  description = "Container of MLflow run artifacts and models, under mlflow/ (MLFLOW_ARTIFACT_LOCATION)."
  value       = azurerm_storage_container.project["artifacts"].name
}

output "pr_client_id" {
  description = "Client id of the pull_request identity (repository variable AZURE_CLIENT_ID)."
  value       = azurerm_user_assigned_identity.ci["pr"].client_id
}

output "deploy_client_id" {
  description = "Client id of the production-environment identity (repository variable AZURE_DEPLOY_CLIENT_ID)."
  value       = azurerm_user_assigned_identity.ci["deploy"].client_id
}

output "backup_client_id" {
  description = "Client id of the scheduled registry backup's identity, backup-environment jobs (repository variable AZURE_BACKUP_CLIENT_ID)."
  value       = azurerm_user_assigned_identity.ci["backup"].client_id
}

output "tenant_id" {
  description = "Entra ID tenant of the identities (repository variable AZURE_TENANT_ID)."
  value       = local.answers.tenant_id
}

output "subscription_id" {
  description = "Subscription of the project's resources (repository variable AZURE_SUBSCRIPTION_ID)."
  value       = local.answers.subscription_id
}

output "mlflow_tracking_uri" {
  description = "MLFLOW_TRACKING_URI: the platform's MLflow server on Container Apps (Entra ID tokens, audience AZURE_MLFLOW_AUDIENCE)."
  value       = local.answers.mlflow_tracking_url
}

output "registry_login_server" {
  description = "Login server of the Container Registry holding the serving images (<name>.azurecr.io)."
  value       = azurerm_container_registry.serving.login_server
}

output "action_group_id" {
  description = "Action group receiving this project's alerts and budget notifications."
  value       = azurerm_monitor_action_group.alerts.id
}

output "resource_group" {
  description = "Resource group of the project's resources; serving/ creates its environments here."
  value       = azurerm_resource_group.project.name
}

output "serving_identity_id" {
  description = "Resource id of the model apps' user-assigned identity (AcrPull, model reads)."
  value       = azurerm_user_assigned_identity.serving.id
}

output "serving_client_id" {
  description = "Client id of the model apps' identity (AZURE_CLIENT_ID inside the container)."
  value       = azurerm_user_assigned_identity.serving.client_id
}

output "repository_variables" {
  description = "GitHub repository variables the workflows read, by name (terraform/github sets them)."
  value = {
    AZURE_CLIENT_ID        = azurerm_user_assigned_identity.ci["pr"].client_id
    AZURE_DEPLOY_CLIENT_ID = azurerm_user_assigned_identity.ci["deploy"].client_id
    AZURE_BACKUP_CLIENT_ID = azurerm_user_assigned_identity.ci["backup"].client_id
    AZURE_TENANT_ID        = local.answers.tenant_id
    AZURE_SUBSCRIPTION_ID  = local.answers.subscription_id
    # cloud-auth asks Entra ID for a token of this audience and sends it as MLFLOW_TRACKING_TOKEN.
    AZURE_MLFLOW_AUDIENCE = "api://${local.answers.mlflow_client_id}"
    MLFLOW_TRACKING_URI   = local.answers.mlflow_tracking_url
    DVC_BUCKET            = azurerm_storage_account.project.name
    ARTIFACT_BUCKET       = azurerm_storage_account.project.name
    # New MLflow experiments keep artifacts here: the only prefix the PR identity may write.
    MLFLOW_ARTIFACT_LOCATION = "wasbs://${azurerm_storage_container.project["artifacts"].name}@${azurerm_storage_account.project.name}.blob.core.windows.net/mlflow"
    # `make backup` (backup.yml) writes here: geo-replicated with the rest of the account. adlfs'
    # az://container@account.blob.core.windows.net form names the account (DVC's azure:// cannot).
    BACKUP_URL = "az://${azurerm_storage_container.project["data"].name}@${azurerm_storage_account.project.name}.blob.core.windows.net/registry-backup"
    # Recent feature rows that `make monitor` (monitor.yml) compares with the training data.
    MONITOR_URL = "az://${azurerm_storage_container.project["data"].name}@${azurerm_storage_account.project.name}.blob.core.windows.net/monitoring"
  }
}

# The tracking server's application issues tokens only to principals holding its MLflow.Access
# role, which the platform stack assigns (its variable mlflow_access_principal_ids): assigning app
# roles needs Microsoft Graph rights that no CI identity has, nor should have. The backup identity
# needs it too (it reads the registry).
output "mlflow_access_principal_ids" {
  description = "Principal ids of the CI identities (pr, deploy, backup): add them to the platform stack's mlflow_access_principal_ids and apply it (docs/cloud/azure.md, bootstrap step 4)."
  value       = values(local.ci_principals)
}

# ---- managed training (training.tf; docs/cloud/azure.md, Managed training)

output "training_identity_client_id" {
  description = "Client id of the user-assigned identity the Azure ML jobs run as (repository variable TRAINING_ROLE)."
  value       = azurerm_user_assigned_identity.training.client_id
}

output "training_image_repository" {
  description = "Registry and repository of the training image, <acr>.azurecr.io/training (repository variable TRAINING_IMAGE_REPOSITORY)."
  value       = "${azurerm_container_registry.serving.login_server}/training"
}

output "training_workspace_name" {
  description = "Azure ML workspace of the training jobs (repository variable TRAINING_WORKSPACE); null unless training_backend_enabled."
  value       = local.training_workspace
}

output "training_repository_variables" {
  description = "The repository variables of the managed-training launchers (terraform/github adds them to repository_variables); TRAINING_WORKSPACE only when training_backend_enabled."
  value = merge(
    {
      TRAINING_ROLE             = azurerm_user_assigned_identity.training.client_id
      TRAINING_IMAGE_REPOSITORY = "${azurerm_container_registry.serving.login_server}/training"
      # Jobs use <url>/<job>/input/, <url>/<job>/output/ and <url>/checkpoints/<model>/.
      TRAINING_STORAGE_URL = "az://${azurerm_storage_container.project["data"].name}@${azurerm_storage_account.project.name}.blob.core.windows.net/training"
    },
    { for name, value in { TRAINING_WORKSPACE = local.training_workspace_id } : name => value if value != null },
  )
}
