# The project's resource group (storage, registry, serving, alerts, budget; CI identities live
# apart, in ci_identities.tf) and its one storage account: DVC data in container `dvc`, MLflow
# artifacts and models in container `mlflow`.
#
# Disaster recovery: geo-redundant storage (var.replication_type, GZRS by default). Azure copies
# every write asynchronously to the region PAIRED with the main one, which is Azure's choice, not
# dr_region: westeurope pairs with northeurope (the default dr_region), but check the pair of any
# other region. RPO: Microsoft states the secondary typically lags less than 15 minutes, with no
# SLA; the account's Last Sync Time says how far it is behind. Endpoints keep their names across a
# failover, so .dvc/config, MLFLOW_ARTIFACT_LOCATION and the role assignments need no change.
# Failover (a platform admin, with write rights on the account):
#   1. az storage account show -n <account> --expand geoReplicationStats  -> lastSyncTime: what is lost
#   2. az storage account failover -n <account> (unplanned, ~1 hour; --failover-type Planned for drills)
#   3. the account is now LRS in the new region: make it geo-redundant again (GRS at once; GZRS
#      through a zone conversion), then set var.replication_type to match; failing back later
#      is the same failover the other way, once Last Sync Time has caught up
# Point-in-time restore and soft delete recover from bad writes and deletions, which
# replication copies faithfully; a failover resets the earliest restore point to its own time.

resource "azurerm_resource_group" "project" {
  name     = "rg-${local.name}"
  location = local.answers.region
  tags     = local.tags
}

# Customer-managed key: the platform Key Vault's key (RBAC authorization, soft delete and purge
# protection on; "allow trusted Microsoft services" if it has a firewall), used through this
# identity. The grant on the vault is a platform admin's (first apply): deploy cannot grant there.
resource "azurerm_user_assigned_identity" "storage" {
  name                = "id-${local.name}-storage"
  location            = azurerm_resource_group.project.location
  resource_group_name = azurerm_resource_group.project.name
  tags                = local.tags
}

resource "azurerm_role_assignment" "storage_key" {
  scope                = local.key_scope
  role_definition_name = "Key Vault Crypto Service Encryption User" # wrap and unwrap only
  principal_id         = azurerm_user_assigned_identity.storage.principal_id
  principal_type       = "ServicePrincipal"
  description          = "Storage account ${local.answers.storage_account}: customer-managed key"
}

resource "azurerm_storage_account" "project" {
  #checkov:skip=CKV_AZURE_35:GitHub-hosted runners have no fixed addresses; access is Entra ID only (no shared keys, no anonymous reads). Add network_rules with your runners' or VNet's addresses.
  #checkov:skip=CKV_AZURE_59:Same reason: CI reaches the account over the internet, authenticated by OIDC-federated identities.
  #checkov:skip=CKV2_AZURE_33:A private endpoint needs a VNet the template does not create; see CKV_AZURE_35.
  #checkov:skip=CKV_AZURE_33:No queue is used, and azurerm 5 has no queue_properties; blob reads, writes and deletes are logged (monitoring.tf).
  name                     = local.answers.storage_account
  resource_group_name      = azurerm_resource_group.project.name
  location                 = azurerm_resource_group.project.location
  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = var.replication_type
  access_tier              = "Hot"

  shared_access_key_enabled         = false # Entra ID only: no account keys, no key-signed SAS
  default_to_oauth_authentication   = true
  local_user_enabled                = false
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  cross_tenant_replication_enabled  = false
  allowed_copy_scope                = "AAD" # copies only from accounts of this tenant
  infrastructure_encryption_enabled = true  # a second AES-256 layer under the key below

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.storage.id]
  }

  customer_managed_key {
    key_vault_key_id          = local.answers.key_vault_key_id
    user_assigned_identity_id = azurerm_user_assigned_identity.storage.id
  }

  blob_properties {
    versioning_enabled            = true
    change_feed_enabled           = true # audit trail of every write; needed by point-in-time restore
    change_feed_retention_in_days = var.noncurrent_version_days

    delete_retention_policy {
      days = var.soft_delete_days
    }
    container_delete_retention_policy {
      days = var.soft_delete_days
    }
    restore_policy {
      days = var.soft_delete_days - 1
    }
  }

  sas_policy {
    expiration_period = "00.01:00:00" # key-signed SAS, should shared keys ever be turned back on
  }

  tags = local.tags

  lifecycle {
    prevent_destroy = true # after a deletion, the portal can restore the account for 14 days
    precondition {
      condition     = can(regex("^[a-z0-9]{3,24}$", local.answers.storage_account))
      error_message = "The storage account name (storage_prefix without hyphens) must be 3-24 lowercase letters and digits."
    }
  }

  # The key must be usable at creation; a new role assignment can take minutes to apply: if the
  # first apply fails on the key, apply again.
  depends_on = [azurerm_role_assignment.storage_key]
}

resource "azurerm_storage_container" "project" {
  #checkov:skip=CKV2_AZURE_21:Blob reads and writes are audited by the storage account's diagnostic setting (monitoring.tf).
  for_each = local.containers

  name                  = each.value
  storage_account_id    = azurerm_storage_account.project.id
  container_access_type = "private"
}

# Old versions are the price of versioning: delete them after noncurrent_version_days, counted
# from each version's creation. Current blobs are never touched (DVC objects are immutable).
resource "azurerm_storage_management_policy" "project" {
  storage_account_id = azurerm_storage_account.project.id

  rule {
    name    = "delete-old-versions"
    enabled = true
    filters {
      blob_types = ["blockBlob"]
    }
    actions {
      version {
        delete_after_days_since_creation = var.noncurrent_version_days
      }
    }
  }
}

# The platform's MLflow server shows run artifacts that CI wrote here directly.
resource "azurerm_role_assignment" "mlflow_server_reads_artifacts" {
  scope                = azurerm_storage_container.project["artifacts"].id
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = local.answers.mlflow_principal_id
  principal_type       = "ServicePrincipal"
  description          = "Platform MLflow server: read ${local.answers.project} artifacts"
}
