provider "azurerm" {
  features {}

  subscription_id                 = local.answers.subscription_id
  storage_use_azuread             = true
  resource_provider_registrations = "none" # the platform registers them (see ../providers.tf)
}
