locals {
  # azurerm has no provider-wide default tags: every taggable resource sets tags = local.tags.
  tags = {
    project       = local.answers.project
    environment   = "shared" # storage and CI identities serve staging and production; serving/ tags per workspace
    owner         = local.answers.owner
    "cost-center" = var.cost_center
    "managed-by"  = "terraform"
  }

  name = local.answers.project

  # Fixed names: the DVC remote (.dvc/config: azure://dvc/data) and MLFLOW_ARTIFACT_LOCATION
  # (wasbs://mlflow@<account>.blob.core.windows.net/mlflow) use exactly these.
  containers = {
    data      = "dvc"
    artifacts = "mlflow"
  }
  dvc_prefix    = "data/files/md5/" # where `dvc push` writes (DVC 3 layout under the remote's data/)
  mlflow_prefix = "mlflow/"
  backup_prefix = "registry-backup/" # `make backup` (BACKUP_URL az://dvc@<account>.blob.core.windows.net/registry-backup)

  # https://<vault>.vault.azure.net/keys/<name> (versionless: the account follows key rotation).
  # The vault's resource group is not in the key id: var.key_vault_resource_group, by default the
  # state's (the platform keeps its vault there).
  key          = regex("^https://(?P<vault>[a-zA-Z0-9-]+)\\.vault\\.azure\\.net/keys/(?P<name>[^/]+)/?$", local.answers.key_vault_key_id)
  key_vault_id = "/subscriptions/${local.answers.subscription_id}/resourceGroups/${coalesce(var.key_vault_resource_group, local.answers.state_resource_group)}/providers/Microsoft.KeyVault/vaults/${local.key.vault}"
  key_scope    = "${local.key_vault_id}/keys/${local.key.name}"

  state_container_id = "/subscriptions/${local.answers.subscription_id}/resourceGroups/${local.answers.state_resource_group}/providers/Microsoft.Storage/storageAccounts/${local.answers.tf_state_bucket}/blobServices/default/containers/tfstate"

  alert_emails = distinct(concat([local.answers.owner], var.alert_emails))
}
