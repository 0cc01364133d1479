# Managed training (params.yaml train.backend: sagemaker; issue #16, docs/cloud/aws.md): the
# execution role SageMaker assumes for this project's training jobs, the training image
# repository, and what the CI identities need around them:
#   job (training role): read <data>/training/<job>/input/ and the DVC data, write
#                        <data>/training/<job>/output/ and <data>/training/checkpoints/, pull the
#                        training image, write its logs and metrics. Nothing else.
#   pr:                  create, describe, stop and tag training jobs named <slug[:40]>-train-*,
#                        pass the training role (to SageMaker only), upload the job's inputs,
#                        read its logs. No IAM write.
#   deploy:              pushes the training image (built on main, never by a pull request).
# Every grant exists whether or not a project uses the backend: none of them costs anything.

locals {
  # Job names: "<project slug, 40 characters at most, no trailing hyphen>-train-<UTC yyyymmddHHMMSS>"
  # (the launcher's, mlops_gitops.training.job_name).
  training_jobs        = "${trimsuffix(substr(local.name, 0, 40), "-")}-train-*"
  training_job_arns    = "arn:aws:sagemaker:${local.answers.region}:${local.answers.account_id}:training-job/${local.training_jobs}"
  training_log_group   = "arn:aws:logs:${local.answers.region}:${local.answers.account_id}:log-group:/aws/sagemaker/TrainingJobs"
  training_prefix      = "${module.storage.arns["data"]}/training"
  training_storage_url = "s3://${module.storage.ids["data"]}/training"
  training_repository  = "${local.name}-training"
  training_repo_arn    = "arn:aws:ecr:${local.answers.region}:${local.answers.account_id}:repository/${local.training_repository}"
}

# ---- the job's identity

data "aws_iam_policy_document" "training_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
    # Confused deputy: only SageMaker acting for this account's training jobs of this project.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.answers.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.training_job_arns]
    }
  }
}

resource "aws_iam_role" "training" {
  name                 = "${local.name}-training"
  description          = "SageMaker training jobs of ${local.answers.repository}"
  assume_role_policy   = data.aws_iam_policy_document.training_trust.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "training" {
  statement {
    # SageMaker lists a channel's prefix before it downloads it, and the checkpoint prefix on a
    # (spot) restart.
    sid       = "ListTrainingData"
    actions   = ["s3:ListBucket"]
    resources = [module.storage.arns["data"]]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["training/*", "dvc/*"]
    }
  }
  statement {
    sid     = "ReadInputsAndData"
    actions = ["s3:GetObject"]
    resources = [
      "${local.training_prefix}/*/input/*",
      "${local.training_prefix}/checkpoints/*",
      "${module.storage.arns["data"]}/dvc/*",
    ]
  }
  statement {
    # The stage's outs (SageMaker's S3OutputPath <url>/<job>/output/) and spot checkpoints.
    # Creates and overwrites, never deletes.
    sid       = "WriteOutputsAndCheckpoints"
    actions   = ["s3:PutObject"]
    resources = ["${local.training_prefix}/*/output/*", "${local.training_prefix}/checkpoints/*"]
  }
  statement {
    sid       = "UseProjectKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]
  }
  statement {
    sid       = "PullTrainingImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [local.training_repo_arn]
  }
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource-level permissions
  }
  statement {
    sid       = "TrainingLogGroup"
    actions   = ["logs:CreateLogGroup", "logs:DescribeLogStreams"]
    resources = ["${local.training_log_group}:*"]
  }
  statement {
    # Streams are "<job name>/algo-<n>-<time>": this project's jobs only.
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.training_log_group}:log-stream:${local.training_jobs}"]
  }
  statement {
    # The job logs to the project's tracking server through the sagemaker-mlflow plugin, as this
    # role: the run the launcher created (resumed by MLFLOW_RUN_ID), the model and its version.
    sid = "TrackTrainingRun"
    actions = [
      "sagemaker-mlflow:GetExperimentByName",
      "sagemaker-mlflow:GetExperiment",
      "sagemaker-mlflow:GetRun",
      "sagemaker-mlflow:UpdateRun",
      "sagemaker-mlflow:LogBatch",
      "sagemaker-mlflow:LogModel",
      "sagemaker-mlflow:LogOutputs",
      "sagemaker-mlflow:FinalizeLoggedModel",
      "sagemaker-mlflow:GetLoggedModel",
      "sagemaker-mlflow:SetLoggedModelTags",
      "sagemaker-mlflow:CreateRegisteredModel",
      "sagemaker-mlflow:GetRegisteredModel",
      "sagemaker-mlflow:CreateModelVersion",
      "sagemaker-mlflow:SetModelVersionTag",
      "sagemaker-mlflow:GetModelVersion",
      "sagemaker-mlflow:SearchModelVersions",
    ]
    resources = [local.mlflow_arn]
  }
  statement {
    # The model files the run logs (MLflow's artifact store).
    sid       = "RunArtifacts"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${module.storage.arns["artifacts"]}/mlflow/*"]
  }
  statement {
    sid       = "Metrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource-level permissions
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/TrainingJobs"]
    }
  }
}

resource "aws_iam_role_policy" "training" {
  name   = "train-model"
  role   = aws_iam_role.training.id
  policy = data.aws_iam_policy_document.training.json
}

# Training images (the project's dependencies; the stage's code and data are the job's inputs),
# tags immutable, scanned on push. Separate from the serving repository: the training role pulls
# only these, the serving role only serving images, and each keeps its own history.
resource "aws_ecr_repository" "training" {
  name                 = local.training_repository
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = local.kms_key_arn
  }
}

resource "aws_ecr_lifecycle_policy" "training" {
  repository = aws_ecr_repository.training.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the last 10 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 10 }
      action       = { type = "expire" }
    }]
  })
}

# ---- the PR identity: submit and watch this project's jobs, as the training role only

data "aws_iam_policy_document" "pr_training" {
  statement {
    # AddTags: CreateTrainingJob with Tags (the run's lineage) needs it on the new job.
    sid       = "SubmitTrainingJobs"
    actions   = ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob", "sagemaker:AddTags"]
    resources = [local.training_job_arns]
  }
  statement {
    sid       = "PassTrainingRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.training.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["sagemaker.amazonaws.com"]
    }
  }
  statement {
    # The launcher uploads the stage's deps to <url>/<job>/input/; it reads the outputs back
    # through ci_common's ReadData.
    sid       = "UploadTrainingInputs"
    actions   = ["s3:PutObject"]
    resources = ["${local.training_prefix}/*/input/*"]
  }
  statement {
    sid       = "WatchTrainingLogs"
    actions   = ["logs:GetLogEvents"]
    resources = ["${local.training_log_group}:log-stream:${local.training_jobs}"]
  }
  statement {
    sid       = "FindTrainingLogs"
    actions   = ["logs:DescribeLogStreams"]
    resources = ["${local.training_log_group}:*"]
  }
}

resource "aws_iam_role_policy" "pr_training" {
  name   = "submit-training"
  role   = aws_iam_role.ci["pr"].id
  policy = data.aws_iam_policy_document.pr_training.json
}

# ---- the deploy identity: builds and pushes the training image on main (training-image job)

data "aws_iam_policy_document" "deploy_training_image" {
  statement {
    sid = "PushTrainingImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [local.training_repo_arn]
  }
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource-level permissions
  }
}

resource "aws_iam_role_policy" "deploy_training_image" {
  name   = "push-training-image"
  role   = aws_iam_role.ci["deploy"].id
  policy = data.aws_iam_policy_document.deploy_training_image.json
}
