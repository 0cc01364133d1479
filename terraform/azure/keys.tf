# Key Vault "platform-kv-<subscription>" in the state resource group, holding:
#   data (key):                  project data and artifacts (output key_vault_key_id, a cookiecutter
#                                answer) and this stack's storage accounts;
#   mlflow-db-password (secret): the MLflow database password (mlflow_db.tf).
# Project stacks derive the vault's resource id from the answers (subscription, state resource
# group, vault name in the key URL) to grant their storage identities on the key; that and the
# accounts' key settings are management-plane calls, so project CI needs no path through the
# vault's firewall. Key Vault replicates itself to the region's pair.
#
# Purge protection keeps a deleted vault and its keys for soft_delete_retention_days; the name
# stays taken that long. Destroying the key would make every account encrypted with it
# unreadable: prevent_destroy.

resource "azurerm_key_vault" "platform" {
  #checkov:skip=CKV2_AZURE_32:No private endpoint: Terraform runs outside the VNet and reaches the vault through its firewall (allowed_ip_ranges); the Container Apps subnet through a service endpoint.
  name                = local.key_vault_name
  location            = var.region
  resource_group_name = azurerm_resource_group.state.name
  tenant_id           = local.tenant_id
  # Premium: the key is HSM-protected.
  sku_name                      = "premium"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = true

  # Storage reaches the key as a trusted service (AzureServices); the Container Apps subnet
  # reads the database password; Terraform itself needs its address in allowed_ip_ranges.
  network_acls {
    default_action             = "Deny"
    bypass                     = "AzureServices"
    ip_rules                   = var.allowed_ip_ranges
    virtual_network_subnet_ids = [azurerm_subnet.apps.id]
  }

  tags = local.tags

  lifecycle {
    prevent_destroy = true
  }
}

# Key Vault data-plane roles for whoever applies, to create and refresh the key and the secret.
# RBAC takes a few minutes to propagate: a 403 on the first apply goes away on a re-run.
resource "azurerm_role_assignment" "deployer_key_vault" {
  for_each = toset(["Key Vault Crypto Officer", "Key Vault Secrets Officer"])

  scope                = azurerm_key_vault.platform.id
  role_definition_name = each.key
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_key_vault_key" "data" {
  #checkov:skip=CKV_AZURE_40:The rotation policy gives every key version an expiry (expire_after) and rotates before it; a fixed expiration_date in code would go stale and block encryption once passed.
  name         = "data"
  key_vault_id = azurerm_key_vault.platform.id
  key_type     = "RSA-HSM"
  key_size     = 3072
  key_opts     = ["wrapKey", "unwrapKey"]

  # A new version about every 11 months; storage accounts follow the versionless id within a
  # day, and older versions stay to unwrap data encrypted before.
  rotation_policy {
    automatic {
      time_before_expiry = "P30D"
    }
    expire_after         = "P1Y"
    notify_before_expiry = "P29D"
  }

  tags = local.tags

  lifecycle {
    prevent_destroy = true
  }

  depends_on = [azurerm_role_assignment.deployer_key_vault]
}

# The identity this stack's storage accounts encrypt with. Project stacks create their own and
# grant it the same role on the key.
resource "azurerm_user_assigned_identity" "storage" {
  name                = "platform-storage-cmk"
  location            = var.region
  resource_group_name = azurerm_resource_group.state.name
  tags                = local.tags
}

resource "azurerm_role_assignment" "storage_key" {
  scope                = azurerm_key_vault_key.data.resource_versionless_id
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.storage.principal_id
  principal_type       = "ServicePrincipal"
}
