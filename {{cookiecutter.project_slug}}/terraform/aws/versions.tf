terraform {
  # 1.10 is the first release with S3-native state locking (use_lockfile).
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Checked offline against the 6.25.0 schema (tfcheck); stay on that minor line.
      version = "~> 6.25"
    }
  }
}
