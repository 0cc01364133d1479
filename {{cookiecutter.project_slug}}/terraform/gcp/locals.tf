locals {
  labels = {
    project       = local.answers.project
    environment   = "shared" # storage and CI identities serve staging and production; serving/ labels per workspace
    owner         = local.owner_label
    "cost-center" = var.cost_center
    "managed-by"  = "terraform"
  }
  # Label values allow lowercase letters, digits, "-" and "_" only (63 at most): an e-mail is not one.
  owner_label = substr(lower(replace(local.answers.owner, "/[^a-zA-Z0-9_-]/", "-")), 0, 63)

  # One ID-token audience for the model services of every environment (serving/ custom_audiences):
  # the deploy job's one SMOKE_TOKEN then reaches staging and production.
  serving_audience = "${local.answers.project}-serving"

  # Fixed names: the DVC remote (.dvc/config) and the workflows use exactly these.
  buckets = {
    data      = "${local.answers.storage_prefix}-data"
    artifacts = "${local.answers.storage_prefix}-artifacts"
  }

  # Cloud KMS keys are regional: the platform creates the same key ring and key in the DR region.
  kms_key    = local.answers.kms_key
  kms_dr_key = replace(local.answers.kms_key, "/locations/${local.answers.region}/", "/locations/${local.answers.dr_region}/")

  # projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>
  wif_pool = regex("^(projects/[0-9]+/locations/global/workloadIdentityPools/[^/]+)/providers/[^/]+$", local.answers.workload_identity_provider)[0]

  # projects/<id>/locations/<region>/services/<name>
  mlflow = regex("^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/services/(?P<name>[^/]+)$", local.answers.mlflow_service)

  # Service account ids are 6-30 characters: a long slug is cut and keeps a hash of the whole,
  # so two projects sharing a 15-character start still get distinct accounts.
  short_name = length(local.answers.project) <= 20 ? local.answers.project : "${trimsuffix(substr(local.answers.project, 0, 15), "-")}-${substr(sha1(local.answers.project), 0, 4)}"

  alert_emails = distinct(concat([local.answers.owner], var.alert_emails))
}
