provider "azurerm" {
  features {}

  subscription_id = local.answers.subscription_id
  # Blob containers and the state backend through Entra ID: the account has no shared keys.
  storage_use_azuread = true
  # Registering resource providers is subscription-wide, which the CI identities may not do:
  # the platform stack registers Microsoft.App, ContainerRegistry, Insights, ManagedIdentity,
  # OperationalInsights, Consumption and Storage once.
  resource_provider_registrations = "none"
}
