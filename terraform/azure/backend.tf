# Remote state in the storage account this stack creates (see docs/cloud/azure.md, "Bootstrap"):
# the very first apply runs with this file renamed away (local state), then
#   terraform init -migrate-state \
#     -backend-config="resource_group_name=<state_resource_group_name>" \
#     -backend-config="storage_account_name=<state_storage_account_name>"
# moves the state into the account. Blob leases lock the state: no lock table. Shared keys are
# off, so the backend authenticates with Entra ID and needs Storage Blob Data Contributor on the
# tfstate container (granted here to whoever applies) and a network path (allowed_ip_ranges).
terraform {
  backend "azurerm" {
    container_name   = "tfstate"
    key              = "platform/azure/terraform.tfstate"
    use_azuread_auth = true
  }
}
