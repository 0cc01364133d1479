# Buckets, each replicated to a bucket in the DR region. Written once for the platform stack
# (state, MLflow) and the project stack (data, artifacts); the template's docs/terraform-modules.md
# says how changes reach both. Every bucket: versioned, SSE-KMS with a customer key, public
# access blocked, TLS-only policy, noncurrent versions expired, protected from `terraform destroy`.

resource "aws_s3_bucket" "primary" {
  for_each = var.buckets
  #checkov:skip=CKV_AWS_18:Access is audited by CloudTrail; server access logs would need one more bucket per bucket.
  #checkov:skip=CKV2_AWS_62:No consumer for object events; objects are read by Terraform, DVC, MLflow and SageMaker only.

  bucket = each.value

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket" "replica" {
  for_each = var.buckets
  provider = aws.dr
  #checkov:skip=CKV_AWS_18:Access is audited by CloudTrail; server access logs would need one more bucket per bucket.
  #checkov:skip=CKV2_AWS_62:No consumer for object events on a DR replica.
  #checkov:skip=CKV_AWS_144:This bucket is the cross-region replica; replicating it again adds cost, not safety.

  bucket = "${each.value}-dr"

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "primary" {
  for_each = var.buckets

  bucket = aws_s3_bucket.primary[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_versioning" "replica" {
  for_each = var.buckets
  provider = aws.dr

  bucket = aws_s3_bucket.replica[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "primary" {
  for_each = var.buckets

  bucket = aws_s3_bucket.primary[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true # fewer KMS requests, lower cost
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica" {
  for_each = var.buckets
  provider = aws.dr

  bucket = aws_s3_bucket.replica[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_dr_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "primary" {
  for_each = var.buckets

  bucket                  = aws_s3_bucket.primary[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_public_access_block" "replica" {
  for_each = var.buckets
  provider = aws.dr

  bucket                  = aws_s3_bucket.replica[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "tls_only" {
  for_each = {
    for pair in setproduct(keys(var.buckets), ["primary", "replica"]) :
    "${pair[0]}-${pair[1]}" => pair[1] == "primary" ? var.buckets[pair[0]] : "${var.buckets[pair[0]]}-dr"
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"] # deny-all over plain HTTP: a list would leave gaps
    resources = [
      "arn:aws:s3:::${each.value}",
      "arn:aws:s3:::${each.value}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "primary" {
  for_each = var.buckets

  bucket = aws_s3_bucket.primary[each.key].id
  policy = data.aws_iam_policy_document.tls_only["${each.key}-primary"].json
}

resource "aws_s3_bucket_policy" "replica" {
  for_each = var.buckets
  provider = aws.dr

  bucket = aws_s3_bucket.replica[each.key].id
  policy = data.aws_iam_policy_document.tls_only["${each.key}-replica"].json
}

resource "aws_s3_bucket_lifecycle_configuration" "primary" {
  for_each = var.buckets

  bucket = aws_s3_bucket.primary[each.key].id
  rule {
    id     = "noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days           = var.noncurrent_version_days
      newer_noncurrent_versions = 10 # always keep the last 10 versions of each object
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "replica" {
  for_each = var.buckets
  provider = aws.dr

  bucket = aws_s3_bucket.replica[each.key].id
  rule {
    id     = "noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days           = var.noncurrent_version_days
      newer_noncurrent_versions = 10
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# ---- replication to the DR region

data "aws_iam_policy_document" "replication_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_iam_role" "replication" {
  name               = "${var.name_prefix}-s3-replication"
  assume_role_policy = data.aws_iam_policy_document.replication_trust.json
}

data "aws_iam_policy_document" "replication" {
  statement {
    sid       = "ReadSourceConfig"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [for b in aws_s3_bucket.primary : b.arn]
  }
  statement {
    sid = "ReadSourceVersions"
    actions = [
      "s3:GetObjectVersionForReplication",
      "s3:GetObjectVersionAcl",
      "s3:GetObjectVersionTagging",
    ]
    resources = [for b in aws_s3_bucket.primary : "${b.arn}/*"]
  }
  statement {
    sid       = "WriteReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    resources = [for b in aws_s3_bucket.replica : "${b.arn}/*"]
  }
  statement {
    sid       = "DecryptSource"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "EncryptReplica"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_dr_key_arn]
  }
}

resource "aws_iam_role_policy" "replication" {
  name   = "replicate-to-dr"
  role   = aws_iam_role.replication.id
  policy = data.aws_iam_policy_document.replication.json
}

resource "aws_s3_bucket_replication_configuration" "primary" {
  for_each = var.buckets
  # Replication needs versioning on both sides first.
  depends_on = [aws_s3_bucket_versioning.primary, aws_s3_bucket_versioning.replica]

  bucket = aws_s3_bucket.primary[each.key].id
  role   = aws_iam_role.replication.arn

  rule {
    id     = "to-dr-region"
    status = "Enabled"
    filter {}

    delete_marker_replication {
      status = "Enabled"
    }

    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket        = aws_s3_bucket.replica[each.key].arn
      storage_class = "STANDARD_IA"
      encryption_configuration {
        replica_kms_key_id = var.kms_dr_key_arn
      }
    }
  }
}
