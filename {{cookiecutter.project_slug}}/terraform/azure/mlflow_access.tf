# The tracking server's Entra application issues tokens only to principals assigned its
# MLflow.Access role (the platform stack sets app_role_assignment_required): both CI identities get
# it here. Creating an assignment needs Microsoft Graph rights (Cloud Application Administrator, or
# AppRoleAssignment.ReadWrite.All), which only the admin's first apply has: CI's applies leave
# these two resources unchanged.

data "azuread_service_principal" "mlflow" {
  client_id = local.answers.mlflow_client_id
}

resource "azuread_app_role_assignment" "ci_mlflow" {
  for_each = local.ci_principals

  app_role_id         = data.azuread_service_principal.mlflow.app_role_ids["MLflow.Access"]
  principal_object_id = each.value
  resource_object_id  = data.azuread_service_principal.mlflow.object_id
}
