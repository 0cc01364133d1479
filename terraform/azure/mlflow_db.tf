# MLflow's backend store (runs, metrics, model registry): PostgreSQL Flexible Server inside the
# VNet (delegated subnet, private DNS), no public endpoint; only the Container Apps subnet
# reaches it. TLS is required (the server's default); server logs go to Log Analytics (logs.tf).
#
# Entra ID authentication is on (for people: mlflow_db_entra_admin), but MLflow logs in with a
# password: its SQLAlchemy store takes one fixed URI, while Entra tokens expire after about an
# hour and would need a connection hook MLflow does not have. The generated password lives in
# Key Vault; the container app reads it with its managed identity (mlflow.tf).

# A random password without the random provider: uuid() draws from crypto/rand. One upper-case
# and one lower-case half meet Azure's complexity rule (three of upper, lower, digits, symbols).
# Fixed in state on the first apply (ignore_changes); the state account is private and
# encrypted. Rotate with `terraform apply -replace=terraform_data.mlflow_db_password`: the server
# and the secret follow; Container Apps picks up the new secret version within 30 minutes
# (MLflow cannot reach its database in between).
resource "terraform_data" "mlflow_db_password" {
  input = "${upper(replace(uuid(), "-", ""))}${replace(uuid(), "-", "")}"

  lifecycle {
    ignore_changes = [input]
  }
}

resource "azurerm_key_vault_secret" "mlflow_db_password" {
  #checkov:skip=CKV_AZURE_41:The password has no natural lifetime; it is rotated by replacing terraform_data.mlflow_db_password, and an expiry date would lock MLflow out of its database.
  name         = "mlflow-db-password"
  value        = terraform_data.mlflow_db_password.output
  key_vault_id = azurerm_key_vault.platform.id
  content_type = "password"
  tags         = local.tags

  depends_on = [azurerm_role_assignment.deployer_key_vault]
}

resource "azurerm_postgresql_flexible_server" "mlflow" {
  #checkov:skip=CKV2_AZURE_57:Private access through VNet integration (delegated subnet, private DNS, no public endpoint); private endpoints exist only for servers created with public access.
  name                          = local.mlflow_db_name
  location                      = var.region
  resource_group_name           = azurerm_resource_group.platform.name
  version                       = "17"
  sku_name                      = var.mlflow_db_sku
  storage_mb                    = 32768
  auto_grow_enabled             = true
  delegated_subnet_id           = azurerm_subnet.db.id
  private_dns_zone_id           = azurerm_private_dns_zone.db.id
  public_network_access_enabled = false
  administrator_login           = "mlflow"
  administrator_password        = terraform_data.mlflow_db_password.output

  # Point-in-time restore over 35 days; geo-redundant backups restore into the region's pair
  # (not offered in every region, and fixed at creation).
  backup_retention_days        = 35
  geo_redundant_backup_enabled = var.mlflow_db_geo_redundant_backup

  authentication {
    active_directory_auth_enabled = true
    password_auth_enabled         = true
    tenant_id                     = local.tenant_id
  }

  maintenance_window {
    day_of_week  = 0 # Sunday
    start_hour   = 3
    start_minute = 0
  }

  tags = local.tags

  lifecycle {
    prevent_destroy = true
    # Azure picks the zone and may move the server after a failover.
    ignore_changes = [zone]
  }

  depends_on = [azurerm_private_dns_zone_virtual_network_link.db]
}

resource "azurerm_postgresql_flexible_server_database" "mlflow" {
  name      = "mlflow"
  server_id = azurerm_postgresql_flexible_server.mlflow.id
  charset   = "UTF8"
  collation = "en_US.utf8"
}

resource "azurerm_postgresql_flexible_server_active_directory_administrator" "mlflow" {
  count = var.mlflow_db_entra_admin == null ? 0 : 1

  server_name         = azurerm_postgresql_flexible_server.mlflow.name
  resource_group_name = azurerm_resource_group.platform.name
  tenant_id           = local.tenant_id
  object_id           = var.mlflow_db_entra_admin.object_id
  principal_name      = var.mlflow_db_entra_admin.principal_name
  principal_type      = var.mlflow_db_entra_admin.principal_type
}
