# DVC data and model/artifact buckets, each replicated to a bucket in the DR region. The module
# comes from the template, which applies it to the platform's buckets too: change it there, and
# template updates (cruft update) bring the change here.
module "storage" {
  source = "./modules/secure_bucket"
  providers = {
    aws    = aws
    aws.dr = aws.dr
  }

  buckets                 = local.buckets
  kms_key_arn             = local.kms_key_arn
  kms_dr_key_arn          = local.kms_dr_key_arn
  account_id              = local.answers.account_id
  name_prefix             = local.name
  noncurrent_version_days = var.noncurrent_version_days
}
