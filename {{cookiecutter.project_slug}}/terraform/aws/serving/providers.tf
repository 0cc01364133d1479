provider "aws" {
  region              = local.answers.region
  allowed_account_ids = [local.answers.account_id]

  default_tags {
    tags = local.tags
  }
}
