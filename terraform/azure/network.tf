# Private network of MLflow: the Container Apps environment's subnet (its replicas' egress) and
# the database's delegated subnet. PostgreSQL has no public endpoint; the storage account and
# Key Vault admit the apps subnet through service endpoints. Nothing else runs in this VNet.

resource "azurerm_virtual_network" "platform" {
  name                = "${var.name_prefix}-vnet"
  location            = var.region
  resource_group_name = azurerm_resource_group.platform.name
  address_space       = [var.network_cidr]
  tags                = local.tags
}

# Half of the range: a workload-profiles environment needs at least a /27, and each replica
# and each upgrade takes addresses.
resource "azurerm_subnet" "apps" {
  name                 = "container-apps"
  resource_group_name  = azurerm_resource_group.platform.name
  virtual_network_name = azurerm_virtual_network.platform.name
  address_prefixes     = [cidrsubnet(var.network_cidr, 1, 0)]

  delegation {
    name = "container-apps"
    service_delegation {
      name    = "Microsoft.App/environments"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }

  service_endpoint {
    service = "Microsoft.Storage"
  }
  service_endpoint {
    service = "Microsoft.KeyVault"
  }
}

resource "azurerm_subnet" "db" {
  name                 = "postgresql"
  resource_group_name  = azurerm_resource_group.platform.name
  virtual_network_name = azurerm_virtual_network.platform.name
  address_prefixes     = [cidrsubnet(var.network_cidr, 2, 2)]

  delegation {
    name = "postgresql"
    service_delegation {
      name    = "Microsoft.DBforPostgreSQL/flexibleServers"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }
}

# The default rules suffice (traffic within the VNet and from Azure's load balancer; nothing
# from the internet); an explicit group makes them visible and lets flow logs attach.
resource "azurerm_network_security_group" "platform" {
  name                = "${var.name_prefix}-nsg"
  location            = var.region
  resource_group_name = azurerm_resource_group.platform.name
  tags                = local.tags
}

resource "azurerm_subnet_network_security_group_association" "platform" {
  for_each = { apps = azurerm_subnet.apps.id, db = azurerm_subnet.db.id }

  subnet_id                 = each.value
  network_security_group_id = azurerm_network_security_group.platform.id
}

# Name resolution of the database's private address, for the VNet only.
resource "azurerm_private_dns_zone" "db" {
  name                = "${local.mlflow_db_name}.private.postgres.database.azure.com"
  resource_group_name = azurerm_resource_group.platform.name
  tags                = local.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "db" {
  name                = "platform-vnet"
  private_dns_zone_id = azurerm_private_dns_zone.db.id
  virtual_network_id  = azurerm_virtual_network.platform.id
  tags                = local.tags
}
