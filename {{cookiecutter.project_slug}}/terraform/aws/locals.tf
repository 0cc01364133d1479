locals {
  tags = {
    project       = local.answers.project
    environment   = "shared" # storage and CI roles serve staging and production; serving/ tags per workspace
    owner         = local.answers.owner
    "cost-center" = var.cost_center
    "managed-by"  = "terraform"
  }

  # Fixed names: the DVC remote (.dvc/config) and the workflows use exactly these.
  buckets = {
    data      = "${local.answers.storage_prefix}-data"
    artifacts = "${local.answers.storage_prefix}-artifacts"
  }

  # The platform key is multi-region: its DR replica keeps the key id in the DR region.
  kms_key_arn    = local.answers.kms_key_arn
  kms_dr_key_arn = replace(local.answers.kms_key_arn, ":${local.answers.region}:", ":${local.answers.dr_region}:")

  name         = local.answers.project
  alert_emails = distinct(concat([local.answers.owner], var.alert_emails))
}
