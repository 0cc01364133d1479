# Shared SageMaker managed MLflow tracking server (tracking + model registry).
# Projects log their runs here; each project's experiments keep their artifacts in the
# project's own "<storage_prefix>-artifacts" bucket under mlflow/, so the server role
# needs access to those buckets too (names end in -artifacts by convention).

data "aws_iam_policy_document" "mlflow_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "mlflow" {
  name               = "${var.name_prefix}-mlflow-server"
  assume_role_policy = data.aws_iam_policy_document.mlflow_trust.json
}

data "aws_iam_policy_document" "mlflow" {
  statement {
    sid     = "ArtifactBuckets"
    actions = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [
      module.storage.arns["mlflow"],
      "arn:aws:s3:::*-artifacts",
    ]
  }
  statement {
    sid     = "ArtifactObjects"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${module.storage.arns["mlflow"]}/*",
      "arn:aws:s3:::*-artifacts/mlflow/*",
    ]
  }
  statement {
    sid       = "ArtifactEncryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main["platform"].arn, aws_kms_key.main["data"].arn]
  }
  statement {
    sid       = "ModelRegistrySync"
    actions   = ["sagemaker:AddTags", "sagemaker:CreateModelPackageGroup", "sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage", "sagemaker:DescribeModelPackageGroup"]
    resources = ["arn:aws:sagemaker:${var.region}:${local.account_id}:model-package*/*"]
  }
}

resource "aws_iam_role_policy" "mlflow" {
  name   = "mlflow-artifacts"
  role   = aws_iam_role.mlflow.id
  policy = data.aws_iam_policy_document.mlflow.json
}

resource "aws_sagemaker_mlflow_tracking_server" "main" {
  tracking_server_name = "${var.name_prefix}-mlflow"
  artifact_store_uri   = "s3://${module.storage.ids["mlflow"]}/artifacts"
  role_arn             = aws_iam_role.mlflow.arn
  tracking_server_size = var.mlflow_server_size
  mlflow_version       = var.mlflow_version
  # Registered models are mirrored into the SageMaker Model Registry (audit in one console).
  automatic_model_registration    = true
  weekly_maintenance_window_start = "Sun:03:00"
}
