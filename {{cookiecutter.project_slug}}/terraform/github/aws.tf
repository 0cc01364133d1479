# AWS part of the repository settings: the variables the workflows read, taken from the
# AWS project stack's outputs. The post-generation hook removes this file for other clouds;
# GCP/Azure add their own <cloud>.tf defining local.cloud_variables.

data "terraform_remote_state" "aws" {
  backend = "s3"
  config = {
    bucket = local.answers.tf_state_bucket
    key    = "${local.answers.project}/aws/project.tfstate"
    region = local.answers.cloud_region
  }
}

locals {
  cloud_variables = {
    AWS_REGION          = data.terraform_remote_state.aws.outputs.region
    AWS_PR_ROLE_ARN     = data.terraform_remote_state.aws.outputs.pr_role_arn
    AWS_DEPLOY_ROLE_ARN = data.terraform_remote_state.aws.outputs.deploy_role_arn
    MLFLOW_TRACKING_URI = data.terraform_remote_state.aws.outputs.mlflow_tracking_uri
    DVC_BUCKET          = data.terraform_remote_state.aws.outputs.dvc_bucket
    ARTIFACT_BUCKET     = data.terraform_remote_state.aws.outputs.artifact_bucket
    # New MLflow experiments keep artifacts here: the only prefix the CI roles may write.
    MLFLOW_ARTIFACT_LOCATION = "s3://${data.terraform_remote_state.aws.outputs.artifact_bucket}/mlflow"
  }
}
