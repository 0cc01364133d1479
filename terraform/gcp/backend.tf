# Remote state in the bucket this stack creates (see docs/cloud/gcp.md, "Bootstrap"):
# the very first apply runs with this file renamed away (local state), then
#   terraform init -migrate-state -backend-config="bucket=<state_bucket_name>"
# moves the state into the bucket. GCS locks the state itself: no lock table.
terraform {
  backend "gcs" {
    prefix = "platform/gcp"
  }
}
