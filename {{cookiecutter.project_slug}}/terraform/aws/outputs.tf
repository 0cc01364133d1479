# Read by serving/ and terraform/github (terraform_remote_state): the GitHub repository
# variables come from here, so no value is typed twice.

output "dvc_bucket" {
  description = "DVC data bucket (repository variable DVC_BUCKET; remote s3://<bucket>/dvc)."
  value       = module.storage.ids["data"]
}

output "artifact_bucket" {
  description = "Model/artifact bucket (repository variable ARTIFACT_BUCKET); MLflow artifacts under mlflow/."
  value       = module.storage.ids["artifacts"]
}

output "pr_role_arn" {
  description = "Role for pull_request jobs (repository variable AWS_PR_ROLE_ARN)."
  value       = aws_iam_role.ci["pr"].arn
}

output "deploy_role_arn" {
  description = "Role for production-environment jobs (repository variable AWS_DEPLOY_ROLE_ARN)."
  value       = aws_iam_role.ci["deploy"].arn
}

output "backup_role_arn" {
  description = "Role of the scheduled registry backup, backup-environment jobs (repository variable AWS_BACKUP_ROLE_ARN)."
  value       = aws_iam_role.ci["backup"].arn
}

output "mlflow_tracking_uri" {
  description = "MLFLOW_TRACKING_URI: the SageMaker MLflow tracking server ARN (needs the sagemaker-mlflow plugin)."
  value       = local.answers.mlflow_tracking_server_arn
}

output "region" {
  description = "Main AWS region (repository variable AWS_REGION)."
  value       = local.answers.region
}

output "serving_role_arn" {
  description = "SageMaker execution role of the endpoints."
  value       = aws_iam_role.serving.arn
}

output "serving_repository_url" {
  description = "ECR repository of the serving image."
  value       = aws_ecr_repository.serving.repository_url
}

output "alerts_topic_arn" {
  description = "SNS topic receiving alarms and budget alerts."
  value       = aws_sns_topic.alerts.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the project's data, artifacts and alerts."
  value       = local.kms_key_arn
}

output "repository_variables" {
  description = "The GitHub repository variables the workflows read (terraform/github writes them; docs/workflows.md)."
  value = {
    AWS_REGION          = local.answers.region
    AWS_PR_ROLE_ARN     = aws_iam_role.ci["pr"].arn
    AWS_DEPLOY_ROLE_ARN = aws_iam_role.ci["deploy"].arn
    AWS_BACKUP_ROLE_ARN = aws_iam_role.ci["backup"].arn
    MLFLOW_TRACKING_URI = local.answers.mlflow_tracking_server_arn
    DVC_BUCKET          = module.storage.ids["data"]
    ARTIFACT_BUCKET     = module.storage.ids["artifacts"]
    # New MLflow experiments keep artifacts here: the only prefix the CI roles may write.
    MLFLOW_ARTIFACT_LOCATION = "s3://${module.storage.ids["artifacts"]}/mlflow"
    # `make backup` (backup.yml) writes here: replicated to dr_region with the rest of the bucket.
    BACKUP_URL = "s3://${module.storage.ids["data"]}/registry-backup"
    # Recent feature rows that `make monitor` (monitor.yml) compares with the training data.
    MONITOR_URL = "s3://${module.storage.ids["data"]}/monitoring"
  }
}

# ---- managed training (training.tf; docs/cloud/aws.md, Managed training)

output "training_role_arn" {
  description = "SageMaker execution role of this project's training jobs (repository variable TRAINING_ROLE)."
  value       = aws_iam_role.training.arn
}

output "training_image_repository_url" {
  description = "ECR repository of the training image (repository variable TRAINING_IMAGE_REPOSITORY)."
  value       = aws_ecr_repository.training.repository_url
}

output "training_repository_variables" {
  description = "The repository variables of the managed-training launchers (terraform/github adds them to repository_variables)."
  value = {
    TRAINING_ROLE             = aws_iam_role.training.arn
    TRAINING_IMAGE_REPOSITORY = aws_ecr_repository.training.repository_url
    # Jobs use <url>/<job>/input/, <url>/<job>/output/ and <url>/checkpoints/<model>/.
    TRAINING_STORAGE_URL = local.training_storage_url
  }
}
