# CI roles assumed by GitHub Actions through OIDC, trusted for THIS repository only:
#   pr:     subjects "pull_request", "environment:promotion-proposal"
#                                             -> read data, push DVC outputs, log and register
#                                                candidate versions (never an alias), terraform plan
#   deploy: subject "environment:production"  -> promotion (registry aliases), terraform apply, the
#                                                serving image (push, scan) and its smoke test
#   backup: subject "environment:backup"      -> the scheduled registry backup (backup.yml): read
#                                                the registry and the model files, add files under
#                                                registry-backup/ of the data bucket; nothing else
# Each identity may do exactly what its workflow steps do: the template repository's
# tests/permissions run the steps as these roles and record every call (docs/permissions.md).
# The deploy subject exists only for jobs in the protected `production` environment
# (required reviewers, main only: see terraform/github), so a PR can never assume it; the backup
# subject only for jobs in the `backup` environment (main only, no reviewers: a schedule never waits).
# backup holds none of ci_common (no data read, no DVC push, no run writes, no Terraform state).

locals {
  # Who may become each identity: exact OIDC subjects of THIS repository. Besides pull requests,
  # pr serves promote.yml's `propose` (it reads the registry and opens a PR), which runs in the
  # promotion-proposal environment: main only (terraform/github), and it alone holds the PR token.
  ci_trust = {
    pr = {
      pull_request = "repo:${local.answers.repository}:pull_request"
      proposal     = "repo:${local.answers.repository}:environment:promotion-proposal"
    }
    deploy = {
      production = "repo:${local.answers.repository}:environment:production"
    }
    backup = {
      backup = "repo:${local.answers.repository}:environment:backup"
    }
  }
  ci_subjects      = { for identity, subjects in local.ci_trust : identity => values(subjects) }
  state_prefix_arn = "arn:aws:s3:::${local.answers.tf_state_bucket}/${local.answers.project}"
  mlflow_arn       = local.answers.mlflow_tracking_server_arn
}

data "aws_iam_policy_document" "ci_trust" {
  for_each = local.ci_subjects
  #checkov:skip=CKV_AWS_358:sub is a list of exact repo-scoped subjects per role (local.ci_trust); checkov cannot resolve for_each values.

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
      values   = each.value
    }
  }
}

resource "aws_iam_role" "ci" {
  for_each = local.ci_subjects

  name                 = "${local.name}-ci-${each.key}"
  description          = "GitHub Actions (${join(", ", each.value)})"
  assume_role_policy   = data.aws_iam_policy_document.ci_trust[each.key].json
  max_session_duration = 3600
}

# ---- shared by pr and deploy (not backup): data, experiment tracking, reading Terraform state

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
    # `make push` (dvc push) adds content-addressed objects under the DVC remote's prefix, the one
    # .dvc/config names (s3://<data bucket>/dvc): nothing else in the bucket, and no deletes.
    sid       = "PushDvcObjects"
    actions   = ["s3:PutObject"]
    resources = ["${module.storage.arns["data"]}/dvc/files/md5/*"]
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
    # The tracking calls of train, evaluate and report (pr-pipeline.yml) and of promote-propose,
    # promote-plan and promote (promote.yml), one action per MLflow REST call.
    sid = "TrackCandidateRuns"
    actions = [
      # Runs: train and evaluate.
      "sagemaker-mlflow:GetExperimentByName",
      "sagemaker-mlflow:CreateExperiment",
      "sagemaker-mlflow:GetExperiment",
      "sagemaker-mlflow:CreateRun",
      "sagemaker-mlflow:UpdateRun",
      "sagemaker-mlflow:GetRun",
      "sagemaker-mlflow:LogBatch",
      "sagemaker-mlflow:GetMetricHistory",
      # MLflow 3 logged models (log_model). LogModel also covers CreateLoggedModel, which has no
      # action of its own in the Service Authorization Reference.
      "sagemaker-mlflow:LogModel",
      "sagemaker-mlflow:LogOutputs",
      "sagemaker-mlflow:FinalizeLoggedModel",
      "sagemaker-mlflow:GetLoggedModel",
      "sagemaker-mlflow:SetLoggedModelTags",
      # Registry: a new version with its lineage tags, read back by report and promotion. No
      # alias action: only the deploy identity moves aliases (statement PromoteModelVersions).
      "sagemaker-mlflow:CreateRegisteredModel",
      "sagemaker-mlflow:GetRegisteredModel",
      "sagemaker-mlflow:CreateModelVersion",
      "sagemaker-mlflow:SetModelVersionTag",
      "sagemaker-mlflow:GetModelVersion",
      "sagemaker-mlflow:GetModelVersionByAlias",
      "sagemaker-mlflow:SearchModelVersions",
      # Not called by the template's stages: the same run-scoped writes as LogBatch, and reads of
      # what GetRun and the artifact bucket expose, for your own mlflow.log_* and search calls.
      "sagemaker-mlflow:LogMetric",
      "sagemaker-mlflow:LogParam",
      "sagemaker-mlflow:SetTag",
      "sagemaker-mlflow:LogInputs",
      "sagemaker-mlflow:SearchRuns",
      "sagemaker-mlflow:SearchExperiments",
      "sagemaker-mlflow:ListArtifacts",
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
  for_each = toset(["pr", "deploy"]) # not backup: it holds its own policy only (below)

  role       = aws_iam_role.ci[each.key].name
  policy_arn = aws_iam_policy.ci_common.arn
}

# ---- deploy only: promotion and terraform apply of this project's resources

data "aws_iam_policy_document" "deploy" {
  statement {
    # `make promote`: aliases moved (and removed on a rollback to null), the model card as the
    # version's description. GetDownloadURIForModelVersionArtifacts: building the serving image
    # from the registered model (`mlflow sagemaker build-and-push-container`).
    sid = "PromoteModelVersions"
    actions = [
      "sagemaker-mlflow:SetRegisteredModelAlias",
      "sagemaker-mlflow:DeleteRegisteredModelAlias",
      "sagemaker-mlflow:UpdateModelVersion",
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
    # promote.yml after `make promote`: `make serving-image-push` pushes the model's image to
    # this project's repository (tags are immutable), `make scan-image` pulls it back for Trivy.
    sid = "PushServingImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
      "ecr:DescribeImages",
    ]
    resources = [aws_ecr_repository.serving.arn]
  }
  statement {
    # `docker login`: the registry token has no resource to scope to.
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    # `make deploy`: the smoke test after each step calls this project's endpoints, nothing else.
    sid       = "SmokeTestEndpoints"
    actions   = ["sagemaker:InvokeEndpoint"]
    resources = ["arn:aws:sagemaker:${local.answers.region}:${local.answers.account_id}:endpoint/${local.name}-*"]
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

# ---- backup only: the scheduled registry backup (backup.yml, `make backup`)
# It reads the registry (models, versions, their runs) and the versions' model files, and adds
# content-addressed files and new snapshots under BACKUP_URL (s3://<data bucket>/registry-backup),
# which the data bucket's replication copies to dr_region. Never an alias or tag, never a delete;
# an overwrite (which the backup never does: every file it writes is new) keeps the old object
# as a noncurrent version of the versioned bucket.

data "aws_iam_policy_document" "backup" {
  statement {
    # One action per MLflow REST call of `mlops-gitops dr backup`, reads only.
    sid = "ReadRegistry"
    actions = [
      "sagemaker-mlflow:GetRegisteredModel",
      "sagemaker-mlflow:SearchRegisteredModels",
      "sagemaker-mlflow:SearchModelVersions",
      "sagemaker-mlflow:GetModelVersion",
      "sagemaker-mlflow:GetModelVersionByAlias",
      "sagemaker-mlflow:GetDownloadURIForModelVersionArtifacts",
      "sagemaker-mlflow:GetLoggedModel",
      "sagemaker-mlflow:GetRun",
      "sagemaker-mlflow:GetExperiment",
      "sagemaker-mlflow:GetMetricHistory",
      "sagemaker-mlflow:ListArtifacts",
    ]
    resources = [local.mlflow_arn]
  }
  statement {
    # Object names only. Not narrowed by an s3:prefix condition: S3 answers a HEAD of a missing
    # object with 403 instead of 404 to a caller without s3:ListBucket on the bucket, and the
    # incremental backup asks which of its files exist yet.
    sid       = "ListBackupSources"
    actions   = ["s3:ListBucket"]
    resources = values(module.storage.arns)
  }
  statement {
    sid       = "ReadModelFiles"
    actions   = ["s3:GetObject"]
    resources = ["${module.storage.arns["artifacts"]}/mlflow/*"]
  }
  statement {
    # The previous snapshot's manifest and registry.json (what makes the backup incremental),
    # and the new files. No s3:DeleteObject, no s3:DeleteObjectVersion.
    sid       = "WriteBackup"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${module.storage.arns["data"]}/registry-backup/*"]
  }
  statement {
    # SSE-KMS: Decrypt to read the model files and the manifest, GenerateDataKey to write.
    sid       = "UseProjectKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "backup" {
  name   = "registry-backup"
  role   = aws_iam_role.ci["backup"].id
  policy = data.aws_iam_policy_document.backup.json
}
