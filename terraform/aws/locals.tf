locals {
  # The five standard tags, applied to every taggable resource through default_tags.
  tags = {
    project       = var.name_prefix
    environment   = "platform"
    owner         = var.owner
    "cost-center" = var.cost_center
    "managed-by"  = "terraform"
  }

  account_id = data.aws_caller_identity.current.account_id

  # Buckets kept by the platform; each gets a replica in the DR region.
  buckets = {
    tfstate = var.state_bucket_name
    mlflow  = "${var.name_prefix}-${local.account_id}-mlflow"
  }
}

data "aws_caller_identity" "current" {}
