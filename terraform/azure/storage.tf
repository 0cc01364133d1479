# Two storage accounts, each with one container created through the management plane (works
# whatever the firewall says):
#   tfstate: Terraform state of this stack and of every project stack (per-project keys), in
#            the state resource group (answers tf_state_bucket, azure_state_resource_group);
#   mlflow:  MLflow's default artifact store, written by the tracking server only.
# Both: shared keys off (Entra ID only), TLS 1.2, no public blobs, versions + change feed + soft
# delete for blobs and containers, infrastructure encryption and the data key. GRS keeps a copy
# in the region's pair (northeurope for westeurope, hence the dr_region default).
#
# Network: the public endpoint stays on, firewalled (default Deny). Turning it off would need a
# private endpoint and self-hosted runners inside the VNet for every project's CI. Instead the
# state account admits allowed_ip_ranges: the platform engineer's address and CI runners with
# fixed egress (self-hosted, or GitHub larger runners with static IPs). Standard GitHub-hosted
# runners have no fixed addresses: teams that use them set state_network_default_action =
# "Allow", which leaves Entra ID (no keys, no anonymous access) as the only gate. The MLflow
# account admits the Container Apps subnet only.
locals {
  storage_accounts = {
    tfstate = {
      name           = var.state_storage_account_name
      resource_group = azurerm_resource_group.state.name
      ip_rules       = var.allowed_ip_ranges
      subnets        = []
    }
    mlflow = {
      name           = local.mlflow_account
      resource_group = azurerm_resource_group.platform.name
      ip_rules       = []
      subnets        = [azurerm_subnet.apps.id]
    }
  }
}

resource "azurerm_storage_account" "platform" {
  #checkov:skip=CKV_AZURE_59:Public endpoint kept, firewalled by network_rules (default Deny): CI runners outside Azure must reach the state; see the comment above.
  #checkov:skip=CKV2_AZURE_33:No private endpoint: the state is reached through the firewall (allowed_ip_ranges), MLflow through a service endpoint of its subnet.
  #checkov:skip=CKV_AZURE_33:No queues are used; queue logging would need the data-plane queue properties. Blob requests are logged through diagnostic settings (logs.tf).
  for_each = local.storage_accounts

  name                              = each.value.name
  resource_group_name               = each.value.resource_group
  location                          = var.region
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = "GRS"
  https_traffic_only_enabled        = true
  min_tls_version                   = "TLS1_2"
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  local_user_enabled                = false
  allow_nested_items_to_be_public   = false
  cross_tenant_replication_enabled  = false
  allowed_copy_scope                = "AAD"
  infrastructure_encryption_enabled = true
  public_network_access             = "Enabled"

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.storage.id]
  }

  # Versionless key id: the account follows the key's rotation.
  customer_managed_key {
    key_vault_key_id          = azurerm_key_vault_key.data.versionless_id
    user_assigned_identity_id = azurerm_user_assigned_identity.storage.id
  }

  blob_properties {
    versioning_enabled            = true
    change_feed_enabled           = true
    change_feed_retention_in_days = 90
    delete_retention_policy {
      days = 30
    }
    container_delete_retention_policy {
      days = 30
    }
  }

  network_rules {
    default_action             = each.key == "tfstate" ? var.state_network_default_action : "Deny"
    bypass                     = ["AzureServices", "Logging", "Metrics"]
    ip_rules                   = each.value.ip_rules
    virtual_network_subnet_ids = each.value.subnets
  }

  # Shared keys are off, so only user-delegation SAS exist: short-lived ones.
  sas_policy {
    expiration_period = "00.01:00:00"
    expiration_action = "Block"
  }

  tags = local.tags

  lifecycle {
    prevent_destroy = true
  }

  depends_on = [azurerm_role_assignment.storage_key]
}

resource "azurerm_storage_container" "platform" {
  #checkov:skip=CKV2_AZURE_21:Storage insights needs the account key, which is disabled; blob reads, writes and deletes reach Log Analytics through diagnostic settings (logs.tf).
  for_each = local.storage_accounts

  name                  = each.key
  storage_account_id    = azurerm_storage_account.platform[each.key].id
  container_access_type = "private"
}

# Previous versions are deleted 90 days after they were created; deleted blobs and containers
# stay restorable for 30 days (soft delete).
resource "azurerm_storage_management_policy" "platform" {
  for_each = local.storage_accounts

  storage_account_id = azurerm_storage_account.platform[each.key].id

  rule {
    name    = "expire-noncurrent-versions"
    enabled = true
    filters {
      blob_types = ["blockBlob"]
    }
    actions {
      version {
        delete_after_days_since_creation = 90
      }
    }
  }
}

# Whoever applies uses the backend (backend.tf); each project stack grants its CI identities
# a conditioned role on their own state prefix in this container (its first apply is an admin's).
resource "azurerm_role_assignment" "deployer_state" {
  scope                = azurerm_storage_container.platform["tfstate"].id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = data.azurerm_client_config.current.object_id
}
