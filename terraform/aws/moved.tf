# State addresses from before the bucket module: `terraform apply` moves them instead of
# replacing the buckets (which prevent_destroy would refuse). Delete this file once every
# stack created before the module has applied it.

moved {
  from = aws_s3_bucket.primary
  to   = module.storage.aws_s3_bucket.primary
}

moved {
  from = aws_s3_bucket.replica
  to   = module.storage.aws_s3_bucket.replica
}

moved {
  from = aws_s3_bucket_versioning.primary
  to   = module.storage.aws_s3_bucket_versioning.primary
}

moved {
  from = aws_s3_bucket_versioning.replica
  to   = module.storage.aws_s3_bucket_versioning.replica
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.primary
  to   = module.storage.aws_s3_bucket_server_side_encryption_configuration.primary
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.replica
  to   = module.storage.aws_s3_bucket_server_side_encryption_configuration.replica
}

moved {
  from = aws_s3_bucket_public_access_block.primary
  to   = module.storage.aws_s3_bucket_public_access_block.primary
}

moved {
  from = aws_s3_bucket_public_access_block.replica
  to   = module.storage.aws_s3_bucket_public_access_block.replica
}

moved {
  from = aws_s3_bucket_policy.primary
  to   = module.storage.aws_s3_bucket_policy.primary
}

moved {
  from = aws_s3_bucket_policy.replica
  to   = module.storage.aws_s3_bucket_policy.replica
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.primary
  to   = module.storage.aws_s3_bucket_lifecycle_configuration.primary
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.replica
  to   = module.storage.aws_s3_bucket_lifecycle_configuration.replica
}

moved {
  from = aws_iam_role.replication
  to   = module.storage.aws_iam_role.replication
}

moved {
  from = aws_iam_role_policy.replication
  to   = module.storage.aws_iam_role_policy.replication
}

moved {
  from = aws_s3_bucket_replication_configuration.primary
  to   = module.storage.aws_s3_bucket_replication_configuration.primary
}
