# Managed training (params.yaml train.backend: azureml; issue #16, docs/cloud/azure.md): the
# user-assigned identity this project's Azure ML jobs run as and, only when
# var.training_backend_enabled, the Azure ML workspace they run in. Around them:
#   job (training identity): read training/ and the DVC data of the dvc container, write
#                            training/<job>/output/ and training/checkpoints/ (never delete), pull
#                            images from the project's registry (repository "training"). Nothing else.
#   pr:                      submit, watch and cancel jobs in that workspace only (AzureML Data
#                            Scientist on the workspace), assign the training identity only
#                            (Managed Identity Operator on it), upload the job's inputs under
#                            training/<job>/input/. No role assignment write.
#   deploy:                  pushes the training image (AcrPush, ci_identities.tf), on main.
# These grants are to principals and roles outside deploy's delegation (ci_identities.tf): the
# first apply of this file, and the apply that sets training_backend_enabled, are a platform
# admin's (Owner or User Access Administrator), as the first apply of the stack is.

resource "azurerm_user_assigned_identity" "training" {
  name                = "id-${local.name}-training"
  location            = azurerm_resource_group.project.location
  resource_group_name = azurerm_resource_group.project.name
  tags                = local.tags
}

locals {
  training_prefix = "training/"
  # Create and overwrite only where the path matches a wildcard pattern (StringLike: * is any text).
  write_like = <<-EOT
    (
     (!(ActionMatches{'${local.blobs}/write'}) AND !(ActionMatches{'${local.blobs}/add/action'}))
     OR
     (@Resource[${local.blobs}:path] StringLike '%s')
    )
  EOT
  # Outputs of any job and the checkpoints; no other path.
  training_write = <<-EOT
    (
     (!(ActionMatches{'${local.blobs}/write'}) AND !(ActionMatches{'${local.blobs}/add/action'}))
     OR
     (@Resource[${local.blobs}:path] StringLike '${local.training_prefix}*/output/*')
     OR
     (@Resource[${local.blobs}:path] StringStartsWith '${local.training_prefix}checkpoints/')
    )
  EOT

  training_grants = {
    # Inputs, outputs and checkpoints read and listed under training/; writes as above.
    job_training = { principal = azurerm_user_assigned_identity.training.principal_id, scope = local.dvc_id, role = local.blob_writer, condition = "${format(local.read_under, local.training_prefix)}AND\n${local.training_write}" }
    # The DVC data the stage reads (the remote's data/ prefix), read only.
    job_dvc_read = { principal = azurerm_user_assigned_identity.training.principal_id, scope = local.dvc_id, role = "Storage Blob Data Reader", condition = format(local.read_under, "data/") }
    # The registry holds serving and training images (one registry: ACR grants pull per registry
    # without repository-scoped tokens); both are this project's own builds.
    job_pull = { principal = azurerm_user_assigned_identity.training.principal_id, scope = azurerm_container_registry.serving.id, role = "AcrPull", condition = null }
    # The launcher uploads the stage's deps under training/<job>/input/ (it reads outputs back
    # through pr_data_read).
    pr_inputs = { principal = local.ci_principals["pr"], scope = local.dvc_id, role = local.blob_writer, condition = format(local.write_like, "${local.training_prefix}*/input/*") }
    # A job that runs as the training identity needs its submitter to be allowed to assign it.
    pr_assign = { principal = local.ci_principals["pr"], scope = azurerm_user_assigned_identity.training.id, role = "Managed Identity Operator", condition = null }
  }
}

resource "azurerm_role_assignment" "training" {
  for_each = local.training_grants

  scope                = each.value.scope
  role_definition_id   = startswith(each.value.role, "/") ? each.value.role : null # the custom role's id
  role_definition_name = startswith(each.value.role, "/") ? null : each.value.role
  principal_id         = each.value.principal
  principal_type       = "ServicePrincipal"
  condition            = each.value.condition == null ? null : trimspace(each.value.condition)
  condition_version    = each.value.condition == null ? null : "2.0"
  description          = "Managed training of ${local.answers.repository}: ${each.key}"
}

# ---- the Azure ML workspace: only when this backend is chosen (var.training_backend_enabled)

locals {
  training_workspace = var.training_backend_enabled ? azurerm_machine_learning_workspace.training[0].name : null
  # The launcher takes the workspace's resource id: it names the subscription and resource group too.
  training_workspace_id = var.training_backend_enabled ? azurerm_machine_learning_workspace.training[0].id : null
}

# The workspace's own secrets (Azure ML requires a vault). Not the platform vault holding the data
# key: the workspace identity gets rights on its vault. RBAC only, purge protection, no public
# network access except Azure's trusted services (Azure ML among them).
resource "azurerm_key_vault" "training" {
  #checkov:skip=CKV2_AZURE_32:A private endpoint needs a VNet the template does not create; the network ACL admits trusted Azure services only.
  count = var.training_backend_enabled ? 1 : 0

  name                          = "kv${substr(local.answers.storage_account, 0, 22)}" # 3-24, global, starts with a letter
  location                      = azurerm_resource_group.project.location
  resource_group_name           = azurerm_resource_group.project.name
  tenant_id                     = local.answers.tenant_id
  sku_name                      = "standard"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = false
  tags                          = local.tags

  network_acls {
    default_action = "Deny"
    bypass         = "AzureServices"
  }
}

# Azure ML requires Application Insights: workspace-based, into the project's Log Analytics workspace.
resource "azurerm_application_insights" "training" {
  count = var.training_backend_enabled ? 1 : 0

  name                = "appi-${local.name}-training"
  location            = azurerm_resource_group.project.location
  resource_group_name = azurerm_resource_group.project.name
  application_type    = "other"
  workspace_id        = azurerm_log_analytics_workspace.audit.id
  tags                = local.tags
}

resource "azurerm_machine_learning_workspace" "training" {
  #checkov:skip=CKV_AZURE_144:GitHub-hosted runners submit jobs and have no VNet; access is Entra ID and RBAC only (AzureML Data Scientist on this workspace).
  #checkov:skip=CKV2_AZURE_49:Same reason as CKV_AZURE_144: no managed VNet, the runners reach the workspace over the internet, authenticated.
  #checkov:skip=CKV2_AZURE_50:The project's storage account: Entra ID only, no shared keys, no anonymous reads (storage.tf, CKV_AZURE_35).
  count = var.training_backend_enabled ? 1 : 0

  name                    = "mlw-${substr(local.name, 0, 29)}" # 3-33 characters
  location                = azurerm_resource_group.project.location
  resource_group_name     = azurerm_resource_group.project.name
  application_insights_id = azurerm_application_insights.training[0].id
  key_vault_id            = azurerm_key_vault.training[0].id
  # The project's storage account (no shared keys: the workspace reaches it by identity) and
  # registry (the training image's).
  storage_account_id            = azurerm_storage_account.project.id
  storage_account_access_type   = "Identity"
  container_registry_id         = azurerm_container_registry.serving.id
  public_network_access_enabled = true
  v1_legacy_mode_enabled        = false
  high_business_impact          = true # less diagnostic data collected by Microsoft
  sku_name                      = "Basic"
  tags                          = local.tags

  # The training identity is attached so that jobs on serverless compute can run as it.
  identity {
    type         = "SystemAssigned, UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.training.id]
  }
}

# Submit, watch and cancel jobs in this workspace; no compute, workspace or role changes.
resource "azurerm_role_assignment" "pr_training_workspace" {
  count = var.training_backend_enabled ? 1 : 0

  scope                = azurerm_machine_learning_workspace.training[0].id
  role_definition_name = "AzureML Data Scientist"
  principal_id         = local.ci_principals["pr"]
  principal_type       = "ServicePrincipal"
  description          = "GitHub Actions ${local.answers.repository} (pr): managed training jobs"
}
