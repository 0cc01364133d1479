# What Container Apps needs to serve this project's model: the runtime identity and the image
# registry. The environments and apps themselves are per workspace, in serving/.

resource "azurerm_user_assigned_identity" "serving" {
  name                = "id-${local.name}-serving"
  location            = azurerm_resource_group.project.location
  resource_group_name = azurerm_resource_group.project.name
  tags                = local.tags
}

# MLflow pyfunc serving images, built from the registered model and pushed by the deploy
# identity (AcrPush, ci_identities.tf); apps pull them as the serving identity. No admin user,
# no anonymous pull: Entra ID only. ACR has no registry-wide tag immutability: the push step
# locks each image (az acr repository update --image <repo>:<tag> --write-enabled false).
resource "azurerm_container_registry" "serving" {
  #checkov:skip=CKV_AZURE_139:Pushed from GitHub-hosted runners without fixed addresses; a private registry needs Premium and a VNet.
  #checkov:skip=CKV_AZURE_163:Image scanning is Microsoft Defender for Containers, a subscription-level plan (not enabled by these stacks: docs/cloud/azure.md, Not yet); the serving image is scanned where it is built.
  #checkov:skip=CKV_AZURE_164:ACR's Docker Content Trust is deprecated (Notation signing replaces it); only the reviewed promotion job pushes, and pushed tags are locked.
  #checkov:skip=CKV_AZURE_165:Geo-replication is Premium-only (var.registry_sku = "Premium" adds a replica in dr_region); Standard images are rebuilt from the geo-redundant registered models.
  #checkov:skip=CKV_AZURE_166:Quarantine is Premium-only; images come from this repository's own reviewed promotion.
  #checkov:skip=CKV_AZURE_167:Untagged-manifest retention is Premium-only (set when var.registry_sku is Premium).
  #checkov:skip=CKV_AZURE_233:Zone redundancy is Premium-only (set when var.registry_sku is Premium).
  #checkov:skip=CKV_AZURE_237:Dedicated data endpoints are Premium-only and serve firewall rules the registry does not have.
  name                   = "${local.answers.storage_account}acr" # alphanumeric and global, like the account name
  resource_group_name    = azurerm_resource_group.project.name
  location               = azurerm_resource_group.project.location
  sku                    = var.registry_sku
  admin_enabled          = false
  anonymous_pull_enabled = false
  # Premium only: keep untagged manifests a week, zone-redundant, one replica in dr_region.
  retention_policy_in_days = local.premium_registry ? 7 : null
  zone_redundancy_enabled  = local.premium_registry
  tags                     = local.tags

  dynamic "georeplications" {
    for_each = local.premium_registry ? [local.answers.dr_region] : []
    content {
      location                        = georeplications.value
      zone_redundancy_enabled         = true
      global_endpoint_routing_enabled = true
      tags                            = local.tags
    }
  }
}

locals {
  premium_registry = var.registry_sku == "Premium"
}

# The apps pull their image and read registered models (the artifact container), nothing else.
resource "azurerm_role_assignment" "serving" {
  for_each = {
    pull   = { scope = azurerm_container_registry.serving.id, role = "AcrPull" }
    models = { scope = azurerm_storage_container.project["artifacts"].id, role = "Storage Blob Data Reader" }
  }

  scope                = each.value.scope
  role_definition_name = each.value.role
  principal_id         = azurerm_user_assigned_identity.serving.principal_id
  principal_type       = "ServicePrincipal"
  description          = "Model serving of ${local.answers.repository}: ${each.key}"
}
