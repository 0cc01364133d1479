provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# Second region: bucket replicas and KMS replica keys for disaster recovery.
provider "aws" {
  alias  = "dr"
  region = var.dr_region

  default_tags {
    tags = local.tags
  }
}
