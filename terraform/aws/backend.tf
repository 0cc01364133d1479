# Remote state in the bucket this stack creates (see docs/cloud/aws.md, "Bootstrap"):
# the very first apply runs with this file renamed away (local state), then
#   terraform init -migrate-state -backend-config="bucket=<state_bucket_name>" -backend-config="region=<region>"
# moves the state into the bucket. Locking is S3-native: no DynamoDB table.
terraform {
  backend "s3" {
    key          = "platform/aws/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
