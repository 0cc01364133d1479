# CI identities for GitHub Actions: user-assigned managed identities, each trusting exact
# subjects of THIS repository, one federated credential per subject (azure/login exchanges the
# job's OIDC token for the identity's Entra token; no secret exists):
#   pr:     "repo:<owner>/<repo>:pull_request", "...:environment:promotion-proposal"
#                                                        -> read data, push DVC objects, log runs,
#                                                           terraform plan
#   deploy: "repo:<owner>/<repo>:environment:production" -> promotion, serving image, terraform apply
#   backup: "repo:<owner>/<repo>:environment:backup"     -> the scheduled registry backup
#                                                           (backup.yml): MLflow app role, read the
#                                                           model files, add files under
#                                                           registry-backup/ of the dvc container
# The deploy subject exists only for jobs in the protected `production` environment (required
# reviewers, main only: see terraform/github), so a pull request can never become it; the backup
# subject only for jobs in the `backup` environment (main only, no reviewers). backup holds none
# of pr's or deploy's grants: no data read, no DVC push, no run writes, no Terraform state.
#
# The identities live in a resource group of their own, where deploy can only read: Contributor
# on the project's group would otherwise let it add a federated credential to itself. The first
# apply is a platform admin's (Owner or User Access Administrator on the subscription: it creates
# the groups and every grant below); CI applies afterwards. Grants outside the project's group
# (state, Key Vault), deploy's own grants and the custom role stay with a platform admin, by
# design: such changes fail in CI.

resource "azurerm_resource_group" "ci" {
  name     = "rg-${local.name}-ci"
  location = local.answers.region
  tags     = local.tags
}

locals {
  # Who may become each identity: exact OIDC subjects of THIS repository. Besides pull requests,
  # pr serves promote.yml's `propose` (it reads the registry and opens a PR), which runs in the
  # promotion-proposal environment: main only (terraform/github), and it alone holds the PR token.
  ci_trust = {
    pr = {
      pull_request = "repo:${local.answers.repository}:pull_request"
      proposal     = "repo:${local.answers.repository}:environment:promotion-proposal"
    }
    deploy = {
      production = "repo:${local.answers.repository}:environment:production"
    }
    backup = {
      backup = "repo:${local.answers.repository}:environment:backup"
    }
  }
  ci_subjects = { for identity, subjects in local.ci_trust : identity => values(subjects) }
  # One binding per trusted subject: "pr-proposal" => { identity = "pr", subject = "repo:...:environment:promotion-proposal" }.
  ci_federation = merge([for identity, subjects in local.ci_trust : { for name, subject in subjects : "${identity}-${name}" => { identity = identity, subject = subject } }]...)
  ci_principals = { for key, identity in azurerm_user_assigned_identity.ci : key => identity.principal_id }

  # ---- ABAC conditions (version 2.0) on blob data roles. A condition block names actions and an
  # expression: the named actions are granted only where the expression holds, others pass.
  blobs = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
  # Create and overwrite (Put Blob/Block/Block List, lease, metadata) only under a path.
  write_under = <<-EOT
    (
     (!(ActionMatches{'${local.blobs}/write'}) AND !(ActionMatches{'${local.blobs}/add/action'}))
     OR
     (@Resource[${local.blobs}:path] StringStartsWith '%s')
    )
  EOT
  # Read blobs, and list them, only under a path.
  read_under = <<-EOT
    (
     (!(ActionMatches{'${local.blobs}/read'} AND NOT SubOperationMatches{'Blob.List'}))
     OR
     (@Resource[${local.blobs}:path] StringStartsWith '%[1]s')
    )
    AND
    (
     (!(ActionMatches{'${local.blobs}/read'} AND SubOperationMatches{'Blob.List'}))
     OR
     (@Request[${local.blobs}:prefix] StringStartsWith '%[1]s')
    )
  EOT
  # Every state of this repository's Azure roots: project.tfstate and serving.tfstateenv:<workspace>.
  state_prefix = "${local.answers.project}/azure/"
  # With Entra ID auth the azurerm backend locks by leasing the state blob itself and writing
  # the lock into its metadata: both need blobs/write on the state, so even plan writes there.
  # Azure RBAC cannot tell a lease from an upload: the PR identity can write these states (never
  # another project's, never delete; the state account keeps versions).
  state_condition = "${format(local.read_under, local.state_prefix)}AND\n${format(local.write_under, local.state_prefix)}"
  blob_writer     = azurerm_role_definition.blob_writer.role_definition_resource_id

  dvc_id       = azurerm_storage_container.project["data"].id
  artifacts_id = azurerm_storage_container.project["artifacts"].id

  ci_grants = {
    # terraform plan refreshes what this stack manages: the two groups, and the role assignments
    # it keeps on the state container and the Key Vault (reading those needs a role there).
    pr_project_read   = { identity = "pr", scope = azurerm_resource_group.project.id, role = "Reader", condition = null }
    pr_ci_read        = { identity = "pr", scope = azurerm_resource_group.ci.id, role = "Reader", condition = null }
    pr_state_rbac     = { identity = "pr", scope = local.state_container_id, role = "Reader", condition = null }
    pr_vault_rbac     = { identity = "pr", scope = local.key_vault_id, role = "Reader", condition = null }
    pr_state          = { identity = "pr", scope = local.state_container_id, role = local.blob_writer, condition = local.state_condition }
    pr_data_read      = { identity = "pr", scope = local.dvc_id, role = "Storage Blob Data Reader", condition = null }
    pr_artifacts_read = { identity = "pr", scope = local.artifacts_id, role = "Storage Blob Data Reader", condition = null }
    # `make push` (dvc push) adds content-addressed objects under the remote's data/files/md5/
    # only; DVC never deletes from a remote, and the PR identity cannot.
    pr_dvc_push = { identity = "pr", scope = local.dvc_id, role = local.blob_writer, condition = format(local.write_under, local.dvc_prefix) }
    # MLflow run artifacts and logged models: under mlflow/ (MLFLOW_ARTIFACT_LOCATION) only.
    pr_mlflow_write = { identity = "pr", scope = local.artifacts_id, role = local.blob_writer, condition = format(local.write_under, local.mlflow_prefix) }

    # terraform apply: everything in the project's group, nothing outside it.
    deploy_project = { identity = "deploy", scope = azurerm_resource_group.project.id, role = "Contributor", condition = null }
    # The role assignments this stack keeps in the group (serving's AcrPull and model reads, the
    # MLflow server's reads, pr's data roles): only those data roles, only to those principals;
    # never Owner, Contributor or a grant to itself.
    deploy_rbac       = { identity = "deploy", scope = azurerm_resource_group.project.id, role = "Role Based Access Control Administrator", condition = local.delegation_condition }
    deploy_ci_read    = { identity = "deploy", scope = azurerm_resource_group.ci.id, role = "Reader", condition = null }
    deploy_state_rbac = { identity = "deploy", scope = local.state_container_id, role = "Reader", condition = null }
    deploy_vault_rbac = { identity = "deploy", scope = local.key_vault_id, role = "Reader", condition = null }
    deploy_state      = { identity = "deploy", scope = local.state_container_id, role = local.blob_writer, condition = local.state_condition }
    # Promotion builds the serving image from the registered model and may write under mlflow/;
    # the quality gate may re-read data.
    deploy_artifacts = { identity = "deploy", scope = local.artifacts_id, role = "Storage Blob Data Contributor", condition = null }
    deploy_data_read = { identity = "deploy", scope = local.dvc_id, role = "Storage Blob Data Reader", condition = null }
    deploy_push      = { identity = "deploy", scope = azurerm_container_registry.serving.id, role = "AcrPush", condition = null }

    # `make backup` (backup.yml): the versions' model files (read and list under mlflow/ only),
    # then the previous snapshot's manifest and new files under BACKUP_URL
    # (BACKUP_URL az://dvc@<account>.blob.core.windows.net/registry-backup), which GZRS copies with the rest of the account. No delete
    # (blob writer); Azure RBAC cannot tell a create from an overwrite (the backup never
    # overwrites, and blob versioning keeps any replaced content).
    backup_models_read = { identity = "backup", scope = local.artifacts_id, role = "Storage Blob Data Reader", condition = format(local.read_under, local.mlflow_prefix) }
    backup_write       = { identity = "backup", scope = local.dvc_id, role = local.blob_writer, condition = "${format(local.read_under, local.backup_prefix)}AND\n${format(local.write_under, local.backup_prefix)}" }
  }

  # Roles deploy may hand out (built-in ids are the same in every tenant), and to whom.
  delegable_roles = {
    "AcrPull"                  = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    "Storage Blob Data Reader" = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
    "blob writer"              = azurerm_role_definition.blob_writer.role_definition_id
  }
  # backup: its two blob grants above (it can do nothing deploy cannot already do).
  delegable_principals = [azurerm_user_assigned_identity.serving.principal_id, local.ci_principals["pr"], local.ci_principals["backup"], local.answers.mlflow_principal_id]
  role_set             = join("", ["{", join(", ", values(local.delegable_roles)), "}"]) # GUID set literal
  principal_set        = join("", ["{", join(", ", local.delegable_principals), "}"])
  delegation_condition = <<-EOT
    (
     (!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'}))
     OR
     (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals ${local.role_set}
      AND @Request[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals ${local.principal_set})
    )
    AND
    (
     (!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}))
     OR
     (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals ${local.role_set}
      AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals ${local.principal_set})
    )
  EOT
}

# Writes without deletes, for the conditioned grants above. Storage Blob Data Contributor would
# also delete blobs and, through its control-plane actions, whole containers, which no
# condition can restrict.
resource "azurerm_role_definition" "blob_writer" {
  name        = "${local.name} blob writer"
  scope       = "/subscriptions/${local.answers.subscription_id}" # the parent of both assignable groups
  description = "Read, create and overwrite blobs, never delete; each assignment's condition narrows the paths."

  permissions {
    actions      = ["Microsoft.Storage/storageAccounts/blobServices/containers/read"]
    data_actions = ["${local.blobs}/read", "${local.blobs}/write", "${local.blobs}/add/action"]
  }

  assignable_scopes = [azurerm_resource_group.project.id, "/subscriptions/${local.answers.subscription_id}/resourceGroups/${local.answers.state_resource_group}"]
}

resource "azurerm_user_assigned_identity" "ci" {
  for_each = local.ci_subjects

  name                = "id-${local.name}-ci-${each.key}"
  location            = azurerm_resource_group.ci.location
  resource_group_name = azurerm_resource_group.ci.name
  tags                = local.tags
}

# One credential per subject (an identity holds at most 20).
resource "azurerm_federated_identity_credential" "github" {
  for_each = local.ci_federation

  name                      = "github-${replace(each.key, "_", "-")}"
  user_assigned_identity_id = azurerm_user_assigned_identity.ci[each.value.identity].id
  issuer                    = "https://token.actions.githubusercontent.com"
  audience                  = ["api://AzureADTokenExchange"]
  subject                   = each.value.subject
}

resource "azurerm_role_assignment" "ci" {
  for_each = local.ci_grants

  scope                = each.value.scope
  role_definition_id   = startswith(each.value.role, "/") ? each.value.role : null # the custom role's id
  role_definition_name = startswith(each.value.role, "/") ? null : each.value.role
  principal_id         = local.ci_principals[each.value.identity]
  principal_type       = "ServicePrincipal"
  condition            = each.value.condition == null ? null : trimspace(each.value.condition)
  condition_version    = each.value.condition == null ? null : "2.0"
  description          = "GitHub Actions ${local.answers.repository} (${each.value.identity}): ${each.key}"
}
