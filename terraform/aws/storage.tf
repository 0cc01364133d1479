# State and MLflow artifact buckets, each replicated to a bucket in the DR region. The module
# is the project template's own copy, read from this checkout (docs/terraform-modules.md).
module "storage" {
  source = "../../{{cookiecutter.project_slug}}/terraform/aws/modules/secure_bucket"
  providers = {
    aws    = aws
    aws.dr = aws.dr
  }

  buckets        = local.buckets
  kms_key_arn    = aws_kms_key.main["platform"].arn
  kms_dr_key_arn = aws_kms_replica_key.dr["platform"].arn
  account_id     = local.account_id
  name_prefix    = var.name_prefix
}
