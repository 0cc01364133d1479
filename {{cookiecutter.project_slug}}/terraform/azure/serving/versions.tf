terraform {
  # The floor of every stack of this template.
  required_version = ">= 1.10.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # Checked offline against the 5.10.0 schema (tfcheck), which refuses a wider range.
      version = "~> 5.10.0"
    }
  }
}
