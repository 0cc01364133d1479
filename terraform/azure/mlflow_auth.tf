# Who may call the tracking server. Container Apps authentication (Easy Auth) validates an Entra
# ID token on every request and answers 401 without one. Audience: the Entra application below,
# api://<client id> (tokens are v2, whose aud is the client id itself; both are allowed).
#
# Entra issues tokens for the application only to principals assigned its MLflow.Access role
# (app_role_assignment_required): without this, any user or identity of the tenant could get one.
#   CI:      the platform engineer lists each project's CI managed identities (the project
#            stack's output mlflow_access_principal_ids) in mlflow_access_principal_ids; after
#            azure/login the workflow runs
#            az account get-access-token --resource api://<client id> and sends the token as
#            MLFLOW_TRACKING_TOKEN (valid about an hour).
#   people:  members of mlflow_access_principal_ids (users or groups) open
#            https://<fqdn>/.auth/login/aad?post_login_redirect_uri=/ once to sign in (Return401
#            does not redirect), then use the UI; scripts on a laptop get a token the same way
#            as CI, through the Azure CLI, which is pre-authorized for user_impersonation.

locals {
  mlflow_audience = "api://${azuread_application_registration.mlflow.client_id}"
  # Fixed ids of the role and the delegated scope: any UUIDs, unique within the application.
  mlflow_role_id  = "a7eaa38a-0601-4bd3-8c8d-fd6616a1f112"
  mlflow_scope_id = "d267c4f0-61be-4285-92ae-96b3876d66ed"
  azure_cli_id    = "04b07795-8ddb-461a-bbee-02f9e1bf7b46" # Microsoft's Azure CLI application
}

resource "azuread_application_registration" "mlflow" {
  display_name     = "${var.name_prefix} MLflow tracking server"
  sign_in_audience = "AzureADMyOrg"
  homepage_url     = "https://${local.mlflow_fqdn}"
  # UI sign-in without a client secret: Easy Auth then uses the implicit flow (ID token only).
  implicit_id_token_issuance_enabled = true
  requested_access_token_version     = 2
}

resource "azuread_application_identifier_uri" "mlflow" {
  application_id = azuread_application_registration.mlflow.id
  identifier_uri = local.mlflow_audience
}

resource "azuread_application_redirect_uris" "mlflow" {
  application_id = azuread_application_registration.mlflow.id
  type           = "Web"
  redirect_uris  = ["https://${local.mlflow_fqdn}/.auth/login/aad/callback"]
}

resource "azuread_application_app_role" "mlflow" {
  application_id       = azuread_application_registration.mlflow.id
  role_id              = local.mlflow_role_id
  value                = "MLflow.Access"
  display_name         = "MLflow user"
  description          = "Use the shared MLflow tracking server and model registry."
  allowed_member_types = ["User", "Application"]
}

# The scope's full name is <identifier URI>/user_impersonation: set the URI first.
resource "azuread_application_permission_scope" "mlflow" {
  application_id             = azuread_application_registration.mlflow.id
  scope_id                   = local.mlflow_scope_id
  value                      = "user_impersonation"
  type                       = "User"
  admin_consent_display_name = "Use MLflow"
  admin_consent_description  = "Call the MLflow tracking server as the signed-in user."
  user_consent_display_name  = "Use MLflow"
  user_consent_description   = "Call the MLflow tracking server as you."

  depends_on = [azuread_application_identifier_uri.mlflow]
}

resource "azuread_application_pre_authorized" "azure_cli" {
  application_id       = azuread_application_registration.mlflow.id
  authorized_client_id = local.azure_cli_id
  permission_ids       = [local.mlflow_scope_id]

  depends_on = [azuread_application_permission_scope.mlflow]
}

resource "azuread_service_principal" "mlflow" {
  client_id                    = azuread_application_registration.mlflow.client_id
  app_role_assignment_required = true
  # Entra tags are plain strings: the standard tags as key:value, and the one that lists the
  # application under Enterprise applications, where its role assignments are managed.
  tags = concat(["WindowsAzureActiveDirectoryIntegratedApp"], [for k, v in local.tags : "${k}:${v}"])
}

resource "azuread_app_role_assignment" "mlflow" {
  for_each = toset(var.mlflow_access_principal_ids)

  app_role_id         = local.mlflow_role_id
  principal_object_id = each.key
  resource_object_id  = azuread_service_principal.mlflow.object_id

  depends_on = [azuread_application_app_role.mlflow]
}

# Not in azurerm 5.10: the ARM resource itself, through azapi.
resource "azapi_resource" "mlflow_auth" {
  type      = "Microsoft.App/containerApps/authConfigs@2025-01-01"
  name      = "current"
  parent_id = azurerm_container_app.mlflow.id

  body = {
    properties = {
      platform = {
        enabled = true
      }
      # Container Apps has no requireAuthentication switch: any action but AllowAnonymous
      # requires a token on every path.
      globalValidation = {
        unauthenticatedClientAction = "Return401"
      }
      identityProviders = {
        azureActiveDirectory = {
          enabled = true
          registration = {
            clientId     = azuread_application_registration.mlflow.client_id
            openIdIssuer = "https://login.microsoftonline.com/${local.tenant_id}/v2.0"
          }
          validation = {
            allowedAudiences = [local.mlflow_audience, azuread_application_registration.mlflow.client_id]
          }
        }
      }
      httpSettings = {
        requireHttps = true
      }
    }
  }
}
