# azurerm has no default tags: every taggable resource sets tags = local.tags itself.
provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
  # Shared keys are off on every account here: data-plane calls use Entra ID too.
  storage_use_azuread = true
  # azurerm 5 registers no resource providers by default: the ones this stack and the project
  # stacks use (registration is subscription-wide, which the projects' CI identities may not do).
  resource_providers_to_register = [
    "Microsoft.App",
    "Microsoft.Consumption",
    "Microsoft.ContainerRegistry",
    "Microsoft.DBforPostgreSQL",
    "Microsoft.Insights",
    "Microsoft.KeyVault",
    "Microsoft.ManagedIdentity",
    "Microsoft.Network",
    "Microsoft.OperationalInsights",
    "Microsoft.Storage",
  ]
}

# Same credentials (Azure CLI, or OIDC in CI), same tenant as the subscription.
provider "azuread" {}

# azapi adds default_tags only to resource types that take tags (authConfigs takes none).
provider "azapi" {
  subscription_id = var.subscription_id
  default_tags    = local.tags
}
