provider "aws" {
  region              = local.answers.region
  allowed_account_ids = [local.answers.account_id] # never apply into the wrong account

  default_tags {
    tags = local.tags
  }
}

# Disaster-recovery region: bucket replicas.
provider "aws" {
  alias               = "dr"
  region              = local.answers.dr_region
  allowed_account_ids = [local.answers.account_id]

  default_tags {
    tags = local.tags
  }
}
