locals {
  # The five standard tags, set on every taggable resource (azurerm has no provider default).
  tags = {
    project       = var.name_prefix
    environment   = "platform"
    owner         = var.owner
    "cost-center" = var.cost_center
    "managed-by"  = "terraform"
  }

  tenant_id = data.azurerm_client_config.current.tenant_id

  # Globally unique names derive from the subscription id: stable across re-applies, and two
  # subscriptions do not collide.
  subscription_hex = replace(var.subscription_id, "-", "")
  key_vault_name   = "platform-kv-${substr(local.subscription_hex, 0, 8)}"
  mlflow_account   = "mlflow${substr(local.subscription_hex, 0, 16)}"
  mlflow_db_name   = "mlflow-${substr(local.subscription_hex, 0, 12)}"
}

# Whoever applies: the platform engineer, or the platform's own CI identity.
data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "state" {
  name     = var.state_resource_group_name
  location = var.region
  tags     = local.tags
}

resource "azurerm_resource_group" "platform" {
  name     = var.name_prefix
  location = var.region
  tags     = local.tags
}
