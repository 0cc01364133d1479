# Two multi-region customer-managed keys, each with a replica in the DR region so that
# replicated objects stay readable there if the main region is lost:
#   platform: Terraform state and MLflow artifacts of this stack;
#   data:     project data, artifacts, SNS topics (output aws_kms_key_arn, a cookiecutter answer).
locals {
  kms_keys = {
    platform = "Terraform state and MLflow artifacts"
    data     = "ML project data, models and alerts"
  }
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:Key policy: Resource "*" is the key itself, and root delegation hands control to IAM.
  #checkov:skip=CKV_AWS_111:Key policy: Resource "*" is the key itself, and root delegation hands control to IAM.
  #checkov:skip=CKV_AWS_356:Key policy: Resource "*" is the key itself; a key policy cannot name its own ARN before creation.
  # Key policies must name the key's own account; IAM policies then grant use per role.
  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy "*" means "this key"
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${local.account_id}:root"]
    }
  }

  # Budgets and CloudWatch alarms publish to KMS-encrypted SNS topics.
  statement {
    sid       = "AlertServicesPublishToEncryptedTopics"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["budgets.amazonaws.com", "cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "main" {
  for_each = local.kms_keys

  description             = "${var.name_prefix} ${each.key}: ${each.value}"
  multi_region            = true
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  for_each = local.kms_keys

  name          = "alias/${var.name_prefix}-${each.key}"
  target_key_id = aws_kms_key.main[each.key].key_id
}

resource "aws_kms_replica_key" "dr" {
  for_each = local.kms_keys
  provider = aws.dr

  description             = "${var.name_prefix} ${each.key} (DR replica): ${each.value}"
  primary_key_arn         = aws_kms_key.main[each.key].arn
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}
