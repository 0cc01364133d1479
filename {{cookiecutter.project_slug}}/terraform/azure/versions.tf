terraform {
  # The floor of every stack of this template (plantimestamp, used by the budget, needs 1.5).
  required_version = ">= 1.10.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # Checked offline against the 5.10.0 schema (tfcheck), which refuses a wider range.
      version = "~> 5.10.0"
    }
  }
}
