# CI service accounts for GitHub Actions, reached through the platform's workload identity pool
# and each trusted for exact subjects of THIS repository (the pool maps google.subject =
# assertion.sub):
#   pr:     "repo:<owner>/<repo>:pull_request", "...:environment:promotion-proposal"
#                                                       -> read data, push DVC outputs, log runs
#                                                          and candidate versions, terraform plan
#   deploy: "repo:<owner>/<repo>:environment:production" -> promotion, serving, terraform apply
#   backup: "repo:<owner>/<repo>:environment:backup"     -> the scheduled registry backup
#                                                          (backup.yml): MLflow invoker, read the
#                                                          model files, add files under
#                                                          registry-backup/ of the data bucket
# The deploy subject exists only for jobs in the protected `production` environment (required
# reviewers, main only: see terraform/github), so a pull request can never become it; the backup
# subject only for jobs in the `backup` environment (main only, no reviewers). backup holds none
# of pr's or deploy's grants: no data read, no DVC push, no run writes, no Terraform state.
#
# google-github-actions/auth (workload_identity_provider + service_account) exchanges the
# federated token for the account's access token (generateAccessToken) or, with
# `token_format: id_token`, for the ID token the MLflow server on Cloud Run wants
# (generateIdToken). roles/iam.workloadIdentityUser lets the federated principal do both
# (iam.serviceAccounts.getAccessToken and getOpenIdToken): no Token Creator role is needed, on
# the principal or on the account itself.
#
# The first apply is a platform admin's (it creates the accounts, buckets and the project-level
# grants below); CI applies afterwards. The deploy account can change neither its own federation
# nor any project-level grant (no setIamPolicy on itself or on the project): such changes fail
# in CI and go through a platform admin, by design.

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
  ci_members    = { for key, account in google_service_account.ci : key => account.member }

  data      = module.storage.names["data"]
  artifacts = module.storage.names["artifacts"]

  # IAM conditions on objects: resource.name is the object for get/create/delete; a list
  # request is allowed through the prefix it asks for (objectListPrefix).
  state_prefix = "${local.answers.project}/" # every state of this repository: project, serving, github
  state_scope  = "resource.name.startsWith(\"projects/_/buckets/${local.answers.tf_state_bucket}/objects/${local.state_prefix}\") || api.getAttribute(\"storage.googleapis.com/objectListPrefix\", \"\").startsWith(\"${local.state_prefix}\")"
  under        = "resource.name.startsWith(\"projects/_/buckets/%s/objects/%s\")"
  # Objects under a prefix, and list requests for that prefix (the backup's reads).
  under_or_list       = "${local.under} || api.getAttribute(\"storage.googleapis.com/objectListPrefix\", \"\").startsWith(\"%s\")"
  backup_prefix       = "registry-backup/"
  backup_scope        = format(local.under_or_list, local.data, local.backup_prefix, local.backup_prefix)
  backup_models_scope = format(local.under_or_list, local.artifacts, "mlflow/", "mlflow/")

  # Bucket-level grants, never project-wide storage roles. condition = null: the whole bucket.
  ci_bucket_grants = {
    pr_data_read = { identity = "pr", bucket = local.data, role = "roles/storage.objectViewer", condition = null }
    # `make push` (dvc push) adds content-addressed objects under the remote's prefix only
    # (gs://<data bucket>/dvc in .dvc/config); no overwrite, no delete.
    pr_dvc_push       = { identity = "pr", bucket = local.data, role = "roles/storage.objectCreator", condition = format(local.under, local.data, "dvc/files/md5/") }
    pr_artifacts_read = { identity = "pr", bucket = local.artifacts, role = "roles/storage.objectViewer", condition = null }
    # MLflow run artifacts and logged models: new objects under mlflow/ (MLFLOW_ARTIFACT_LOCATION).
    pr_mlflow_write = { identity = "pr", bucket = local.artifacts, role = "roles/storage.objectCreator", condition = format(local.under, local.artifacts, "mlflow/") }
    # terraform plan: read this repository's states; the gcs backend's lock is a .tflock object
    # next to the state, written and removed on plan too.
    pr_state_read = { identity = "pr", bucket = local.answers.tf_state_bucket, role = "roles/storage.objectViewer", condition = local.state_scope }
    pr_state_lock = { identity = "pr", bucket = local.answers.tf_state_bucket, role = "roles/storage.objectUser", condition = "${format(local.under, local.answers.tf_state_bucket, local.state_prefix)} && resource.name.endsWith(\".tflock\")" }
    deploy_state  = { identity = "deploy", bucket = local.answers.tf_state_bucket, role = "roles/storage.objectUser", condition = local.state_scope }
    # `make backup` (backup.yml): the versions' model files (MLflow artifacts under mlflow/), then
    # the previous snapshot's manifest and new files under BACKUP_URL (gs://<data bucket>/registry-backup),
    # which the Storage Transfer job copies to <data bucket>-dr. objectCreator: create only, no
    # overwrite, no delete (GCS needs storage.objects.delete to replace an object).
    backup_models_read = { identity = "backup", bucket = local.artifacts, role = "roles/storage.objectViewer", condition = local.backup_models_scope }
    backup_read        = { identity = "backup", bucket = local.data, role = "roles/storage.objectViewer", condition = local.backup_scope }
    backup_write       = { identity = "backup", bucket = local.data, role = "roles/storage.objectCreator", condition = format(local.under, local.data, local.backup_prefix) }
  }

  # terraform apply manages the four buckets (settings, IAM) and promotion writes to them:
  # storage.admin on these buckets only. plan reads their settings: legacyBucketReader.
  ci_managed_buckets = merge(module.storage.names, { for key, name in module.storage.replica_names : "${key}_dr" => name })
}

resource "google_service_account" "ci" {
  for_each = local.ci_subjects

  account_id   = "${local.short_name}-ci-${each.key}"
  display_name = "GitHub Actions: ${local.answers.repository} (${each.key})"
  description  = "Workload identity for ${join(", ", each.value)} only."
}

resource "google_service_account_iam_member" "ci_federation" {
  for_each = local.ci_federation

  service_account_id = google_service_account.ci[each.value.identity].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principal://iam.googleapis.com/${local.wif_pool}/subject/${each.value.subject}"
}

resource "google_storage_bucket_iam_member" "ci" {
  for_each = local.ci_bucket_grants

  bucket = each.value.bucket
  role   = each.value.role
  member = local.ci_members[each.value.identity]

  dynamic "condition" {
    for_each = each.value.condition == null ? [] : [each.value.condition]
    content {
      title      = each.key
      expression = condition.value
    }
  }
}

resource "google_storage_bucket_iam_member" "ci_bucket_read" {
  for_each = local.ci_managed_buckets

  bucket = each.value
  role   = "roles/storage.legacyBucketReader"
  member = local.ci_members["pr"]
}

resource "google_storage_bucket_iam_member" "deploy_buckets" {
  for_each = local.ci_managed_buckets

  bucket = each.value
  role   = "roles/storage.admin"
  member = local.ci_members["deploy"]
}

# Every CI identity reaches the platform's MLflow server, which Cloud Run admits with an ID token
# of an invoker: pr and deploy log runs and register versions, backup reads the registry. The
# server has no per-call permissions: that only deploy moves aliases, and that backup only reads,
# is the workflows' rule (promote.yml, backup.yml), not IAM's, on this cloud.
resource "google_cloud_run_v2_service_iam_member" "ci_mlflow" {
  for_each = local.ci_subjects

  project  = local.mlflow.project
  location = local.mlflow.location
  name     = local.mlflow.name
  role     = "roles/run.invoker"
  member   = local.ci_members[each.key]
}

# ---- project-level roles, where the service has no narrower resource to grant on

locals {
  ci_project_roles = {
    # terraform plan: read what this stack manages (deploy reads alerts and jobs through the
    # editor roles below).
    pr_iam_read          = { identity = "pr", role = "roles/iam.securityReviewer" } # IAM policies of buckets, accounts, registry, Cloud Run
    pr_accounts_read     = { identity = "pr", role = "roles/iam.serviceAccountViewer" }
    pr_monitoring_read   = { identity = "pr", role = "roles/monitoring.viewer" }
    pr_transfer_read     = { identity = "pr", role = "roles/storagetransfer.viewer" }
    deploy_iam_read      = { identity = "deploy", role = "roles/iam.securityReviewer" }
    deploy_accounts_read = { identity = "deploy", role = "roles/iam.serviceAccountViewer" }
    # terraform apply (deploy). Cloud Run services are created in the project (they do not exist
    # before), and Cloud Run takes no IAM condition on a resource name, so run.admin (services
    # and their invokers) covers every service of the project, the platform's MLflow too: put
    # MLflow in a project of its own if that matters.
    deploy_run = { identity = "deploy", role = "roles/run.admin" }
    # Alert policies, notification channels and transfer jobs have no per-resource IAM.
    deploy_alerts   = { identity = "deploy", role = "roles/monitoring.alertPolicyEditor" }
    deploy_channels = { identity = "deploy", role = "roles/monitoring.notificationChannelEditor" }
    deploy_transfer = { identity = "deploy", role = "roles/storagetransfer.user" }
  }
}

resource "google_project_iam_member" "ci" {
  for_each = local.ci_project_roles

  project = local.answers.project_id
  role    = each.value.role
  member  = local.ci_members[each.value.identity]
}

# terraform apply updates the pr and backup accounts and their federation (neither can do more
# than deploy already can); deploy's own account and federation stay with a platform admin (see
# the top of this file).
resource "google_service_account_iam_member" "deploy_manages_pr" {
  service_account_id = google_service_account.ci["pr"].name
  role               = "roles/iam.serviceAccountAdmin"
  member             = local.ci_members["deploy"]
}

resource "google_service_account_iam_member" "deploy_manages_backup" {
  service_account_id = google_service_account.ci["backup"].name
  role               = "roles/iam.serviceAccountAdmin"
  member             = local.ci_members["deploy"]
}
