# Each output is a cookiecutter answer of project generation (docs/cloud/aws.md).

output "aws_account_id" {
  description = "Answer aws_account_id."
  value       = local.account_id
}

output "tf_state_bucket" {
  description = "Answer tf_state_bucket: bucket holding every project's Terraform state."
  value       = module.storage.ids["tfstate"]
}

output "aws_oidc_provider_arn" {
  description = "Answer aws_oidc_provider_arn: GitHub OIDC identity provider, created here or the existing one (create_github_oidc_provider)."
  value       = local.github_oidc_provider_arn
}

output "aws_kms_key_arn" {
  description = "Answer aws_kms_key_arn: multi-region key for project data (its DR replica has the same id in dr_region)."
  value       = aws_kms_key.main["data"].arn
}

output "aws_mlflow_tracking_server_arn" {
  description = "Answer aws_mlflow_tracking_server_arn: used as MLFLOW_TRACKING_URI with the sagemaker-mlflow plugin."
  value       = aws_sagemaker_mlflow_tracking_server.main.arn
}

output "aws_mlflow_tracking_url" {
  description = "Answer aws_mlflow_tracking_url: the MLflow UI."
  value       = aws_sagemaker_mlflow_tracking_server.main.tracking_server_url
}

output "cloud_region" {
  description = "Answer cloud_region."
  value       = var.region
}

output "dr_region" {
  description = "Answer dr_region."
  value       = var.dr_region
}
