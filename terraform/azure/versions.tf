terraform {
  # 1.9 brought validation conditions that read other variables (dr_region != region); 1.10 is
  # the floor every stack of this template shares.
  required_version = ">= 1.10.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # Checked offline against the 5.10.0 schema (tfcheck), which refuses a wider range.
      version = "~> 5.10.0"
    }
    # Only for the tracking server's Entra application registration (mlflow_auth.tf).
    azuread = {
      source  = "hashicorp/azuread"
      version = "~> 3.10.0"
    }
    # Only for the Container Apps authentication config, which azurerm does not have.
    azapi = {
      source  = "azure/azapi"
      version = "~> 2.13.0"
    }
  }
}
