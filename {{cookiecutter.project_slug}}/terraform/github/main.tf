# Repository settings, the same for every cloud. The cloud's values (identities, buckets, the
# tracking server) are the `repository_variables` output of its project stack, read from its state:
# no value is typed twice.

data "terraform_remote_state" "project" {
  backend = local.answers.project_state_backend
  config  = local.answers.project_state
}

locals {
  # code_owners answer: "@org/team" (first entry when several are given) or "@user".
  first_owner   = trimprefix(split(" ", trimspace(local.answers.code_owners))[0], "@")
  reviewer_team = strcontains(local.first_owner, "/") ? split("/", local.first_owner)[1] : null
  reviewer_user = strcontains(local.first_owner, "/") ? null : local.first_owner

  common_variables = {
    TF_STATE_BUCKET = local.answers.tf_state_bucket
  }
  # training_repository_variables: the managed-training launchers' TRAINING_ROLE,
  # TRAINING_IMAGE_REPOSITORY, TRAINING_STORAGE_URL (and TRAINING_WORKSPACE on Azure, once enabled).
  repository_variables = merge(
    data.terraform_remote_state.project.outputs.repository_variables,
    data.terraform_remote_state.project.outputs.training_repository_variables,
    local.common_variables,
  )
}

data "github_repository" "this" {
  full_name = "${local.answers.github_owner}/${local.answers.repository}"
}

data "github_team" "reviewers" {
  count = local.reviewer_team == null ? 0 : 1
  slug  = local.reviewer_team
}

data "github_user" "reviewer" {
  count    = local.reviewer_user == null ? 0 : 1
  username = local.reviewer_user
}

# Promotion and terraform apply run only in this environment: a reviewer approves each run,
# and only main may deploy. The cloud deploy role trusts only this environment's OIDC subject.
resource "github_repository_environment" "production" {
  repository          = data.github_repository.this.name
  environment         = "production"
  prevent_self_review = true
  can_admins_bypass   = false

  reviewers {
    teams = [for t in data.github_team.reviewers : t.id]
    users = [for u in data.github_user.reviewer : u.id]
  }

  deployment_branch_policy {
    protected_branches     = false
    custom_branch_policies = true
  }
}

resource "github_repository_environment_deployment_policy" "main_only" {
  repository     = data.github_repository.this.name
  environment    = github_repository_environment.production.environment
  branch_pattern = "main"
}

# Environments that only scope a secret to the one job using it (zizmor's secrets-outside-env):
# promotion-proposal holds PROMOTION_PR_TOKEN for promote.yml's `propose` (main only; the PR
# identity trusts its OIDC subject), cost-estimate holds INFRACOST_API_KEY for terraform.yml's
# `cost`, which runs on pull requests, so no branch rule. The secrets' values are set by hand.
resource "github_repository_environment" "promotion_proposal" {
  repository  = data.github_repository.this.name
  environment = "promotion-proposal"

  deployment_branch_policy {
    protected_branches     = false
    custom_branch_policies = true
  }
}

resource "github_repository_environment_deployment_policy" "proposal_main_only" {
  repository     = data.github_repository.this.name
  environment    = github_repository_environment.promotion_proposal.environment
  branch_pattern = "main"
}

# The scheduled registry backup (backup.yml): main only and no reviewers, so a schedule never
# waits; the cloud's backup identity trusts only this environment's OIDC subject.
resource "github_repository_environment" "backup" {
  repository  = data.github_repository.this.name
  environment = "backup"

  deployment_branch_policy {
    protected_branches     = false
    custom_branch_policies = true
  }
}

resource "github_repository_environment_deployment_policy" "backup_main_only" {
  repository     = data.github_repository.this.name
  environment    = github_repository_environment.backup.environment
  branch_pattern = "main"
}

resource "github_repository_environment" "cost_estimate" {
  repository  = data.github_repository.this.name
  environment = "cost-estimate"
}

resource "github_branch_protection" "main" {
  #checkov:skip=CKV_GIT_5:Approvals are var.required_approvals (default 1, small ML teams); code-owner review is always required.
  #checkov:skip=CKV_GIT_6:Signed commits need every contributor and bot to hold a signing key; opt in with require_signed_commits.
  repository_id                   = data.github_repository.this.node_id
  pattern                         = "main"
  enforce_admins                  = true
  allows_deletions                = false
  allows_force_pushes             = false
  require_conversation_resolution = true

  required_pull_request_reviews {
    require_code_owner_reviews      = true # CODEOWNERS gate promotions and infrastructure
    required_approving_review_count = var.required_approvals
    dismiss_stale_reviews           = true
    require_last_push_approval      = true
  }

  required_status_checks {
    strict   = true
    contexts = var.required_status_checks
  }
}

resource "github_actions_variable" "repository" {
  for_each = local.repository_variables

  repository    = data.github_repository.this.name
  variable_name = each.key
  value         = each.value
}
