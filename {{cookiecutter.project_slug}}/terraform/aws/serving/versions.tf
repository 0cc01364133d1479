terraform {
  # 1.10 is the first release with S3-native state locking (use_lockfile).
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Checked offline against the 6.69.1 schema (tfcheck), which refuses a wider range.
      version = "~> 6.69.0"
    }
  }
}
