# CI roles assumed by GitHub Actions through OIDC, trusted for THIS repository only:
#   pr:     subject "pull_request"            -> read data, log candidate runs, terraform plan
#   deploy: subject "environment:production"  -> promotion (registry aliases) and terraform apply
# The deploy subject exists only for jobs in the protected `production` environment
# (required reviewers, main only: see terraform/github), so a PR can never assume it.

locals {
  ci_subjects = {
    pr     = "repo:${local.answers.repository}:pull_request"
    deploy = "repo:${local.answers.repository}:environment:production"
  }
  state_prefix_arn = "arn:aws:s3:::${local.answers.tf_state_bucket}/${local.answers.project}"
  mlflow_arn       = local.answers.mlflow_tracking_server_arn
}

data "aws_iam_policy_document" "ci_trust" {
  for_each = local.ci_subjects
  #checkov:skip=CKV_AWS_358:sub is one exact repo-scoped subject per role (local.ci_subjects); checkov cannot resolve for_each values.

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.answers.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [each.value]
    }
  }
}

resource "aws_iam_role" "ci" {
  for_each = local.ci_subjects

  name                 = "${local.name}-ci-${each.key}"
  description          = "GitHub Actions (${each.value})"
  assume_role_policy   = data.aws_iam_policy_document.ci_trust[each.key].json
  max_session_duration = 3600
}

# ---- shared by both roles: data, experiment tracking, reading Terraform state

data "aws_iam_policy_document" "ci_common" {
  #checkov:skip=CKV_AWS_356:Only the describe-only TerraformPlanRefresh statement uses "*": budgets and autoscaling describes have no resource ARNs.
  statement {
    sid       = "ListProjectBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = values(module.storage.arns)
  }
  statement {
    sid       = "ReadData"
    actions   = ["s3:GetObject"]
    resources = ["${module.storage.arns["data"]}/*"]
  }
  statement {
    sid       = "RunArtifacts"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${module.storage.arns["artifacts"]}/mlflow/*"]
  }
  statement {
    sid       = "UseProjectKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]
  }
  statement {
    sid = "TrackCandidateRuns"
    actions = [
      "sagemaker-mlflow:CreateExperiment",
      "sagemaker-mlflow:GetExperiment",
      "sagemaker-mlflow:GetExperimentByName",
      "sagemaker-mlflow:SearchExperiments",
      "sagemaker-mlflow:CreateRun",
      "sagemaker-mlflow:UpdateRun",
      "sagemaker-mlflow:GetRun",
      "sagemaker-mlflow:SearchRuns",
      "sagemaker-mlflow:LogMetric",
      "sagemaker-mlflow:LogParam",
      "sagemaker-mlflow:LogBatch",
      "sagemaker-mlflow:LogInputs",
      "sagemaker-mlflow:LogModel",
      "sagemaker-mlflow:SetTag",
      "sagemaker-mlflow:GetMetricHistory",
      "sagemaker-mlflow:ListArtifacts",
      "sagemaker-mlflow:CreateRegisteredModel",
      "sagemaker-mlflow:GetRegisteredModel",
      "sagemaker-mlflow:CreateModelVersion",
      "sagemaker-mlflow:GetModelVersion",
      "sagemaker-mlflow:GetModelVersionByAlias",
      "sagemaker-mlflow:SearchModelVersions",
      "sagemaker-mlflow:SetModelVersionTag",
    ]
    resources = [local.mlflow_arn]
  }
  statement {
    sid       = "ReadTerraformState"
    actions   = ["s3:GetObject"]
    resources = ["${local.state_prefix_arn}/*", "arn:aws:s3:::${local.answers.tf_state_bucket}/env:/*/${local.answers.project}/*"]
  }
  statement {
    sid       = "ListTerraformState"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${local.answers.tf_state_bucket}"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.answers.project}/*", "env:/*/${local.answers.project}/*"]
    }
  }
  statement {
    # S3-native locking writes and removes a .tflock object next to the state, also on plan.
    sid       = "TerraformLockfile"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state_prefix_arn}/*.tflock", "arn:aws:s3:::${local.answers.tf_state_bucket}/env:/*/${local.answers.project}/*.tflock"]
  }
  statement {
    sid       = "DecryptTerraformState"
    actions   = ["kms:Decrypt"]
    resources = ["arn:aws:kms:${local.answers.region}:${local.answers.account_id}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.answers.region}.amazonaws.com"]
    }
  }
  statement {
    # terraform plan refreshes every managed resource: describe-only actions.
    sid = "TerraformPlanRefresh"
    actions = [
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "s3:GetBucketPolicy",
      "s3:GetBucketVersioning",
      "s3:GetEncryptionConfiguration",
      "s3:GetBucketPublicAccessBlock",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:GetBucketTagging",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketWebsite",
      "s3:GetBucketLogging",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketRequestPayment",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketOwnershipControls",
      "sns:GetTopicAttributes",
      "sns:ListTagsForResource",
      "sns:GetSubscriptionAttributes",
      "budgets:ViewBudget",
      "budgets:ListTagsForResource",
      "ecr:DescribeRepositories",
      "ecr:GetLifecyclePolicy",
      "ecr:ListTagsForResource",
      "sagemaker:DescribeModel",
      "sagemaker:DescribeEndpointConfig",
      "sagemaker:DescribeEndpoint",
      "sagemaker:ListTags",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:ListTagsForResource",
      "application-autoscaling:DescribeScalableTargets",
      "application-autoscaling:DescribeScalingPolicies",
      "application-autoscaling:ListTagsForResource",
    ]
    resources = ["*"] # describe calls cannot all be scoped to ARNs (budgets, autoscaling)
  }
}

resource "aws_iam_policy" "ci_common" {
  name        = "${local.name}-ci-common"
  description = "Data read, candidate runs, Terraform plan (read-only) for ${local.answers.repository}"
  policy      = data.aws_iam_policy_document.ci_common.json
}

resource "aws_iam_role_policy_attachment" "ci_common" {
  for_each = aws_iam_role.ci

  role       = each.value.name
  policy_arn = aws_iam_policy.ci_common.arn
}

# ---- deploy only: promotion and terraform apply of this project's resources

data "aws_iam_policy_document" "deploy" {
  statement {
    sid = "PromoteModelVersions"
    actions = [
      "sagemaker-mlflow:SetRegisteredModelAlias",
      "sagemaker-mlflow:DeleteRegisteredModelAlias",
      "sagemaker-mlflow:SetRegisteredModelTag",
      "sagemaker-mlflow:GetDownloadURIForModelVersionArtifacts",
    ]
    resources = [local.mlflow_arn]
  }
  statement {
    sid       = "WriteDataAndModels"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = [for arn in values(module.storage.arns) : "${arn}/*"]
  }
  statement {
    sid       = "WriteTerraformState"
    actions   = ["s3:PutObject"]
    resources = ["${local.state_prefix_arn}/*", "arn:aws:s3:::${local.answers.tf_state_bucket}/env:/*/${local.answers.project}/*"]
  }
  statement {
    sid       = "EncryptTerraformState"
    actions   = ["kms:GenerateDataKey", "kms:Encrypt"]
    resources = ["arn:aws:kms:${local.answers.region}:${local.answers.account_id}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.answers.region}.amazonaws.com"]
    }
  }
  statement {
    sid = "ManageServing"
    actions = [
      "sagemaker:CreateModel",
      "sagemaker:DeleteModel",
      "sagemaker:CreateEndpointConfig",
      "sagemaker:DeleteEndpointConfig",
      "sagemaker:CreateEndpoint",
      "sagemaker:UpdateEndpoint",
      "sagemaker:DeleteEndpoint",
      "sagemaker:AddTags",
      "sagemaker:DeleteTags",
    ]
    resources = [
      "arn:aws:sagemaker:${local.answers.region}:${local.answers.account_id}:model/${local.name}-*",
      "arn:aws:sagemaker:${local.answers.region}:${local.answers.account_id}:endpoint-config/${local.name}-*",
      "arn:aws:sagemaker:${local.answers.region}:${local.answers.account_id}:endpoint/${local.name}-*",
    ]
  }
  statement {
    sid = "ManageAlarmsAndScaling"
    actions = [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:DeleteAlarms",
      "cloudwatch:TagResource",
      "application-autoscaling:RegisterScalableTarget",
      "application-autoscaling:DeregisterScalableTarget",
      "application-autoscaling:PutScalingPolicy",
      "application-autoscaling:DeleteScalingPolicy",
      "application-autoscaling:TagResource",
    ]
    resources = [
      "arn:aws:cloudwatch:${local.answers.region}:${local.answers.account_id}:alarm:${local.name}-*",
      "arn:aws:application-autoscaling:${local.answers.region}:${local.answers.account_id}:scalable-target/*",
    ]
  }
  statement {
    sid       = "PassServingRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.serving.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["sagemaker.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "promote-and-apply"
  role   = aws_iam_role.ci["deploy"].id
  policy = data.aws_iam_policy_document.deploy.json
}
