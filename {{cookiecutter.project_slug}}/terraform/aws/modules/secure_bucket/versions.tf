terraform {
  # Same constraints as the two stacks that call this module (terraform/aws of the platform
  # and of the project).
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Checked offline against the 6.69.1 schema (tfcheck), which refuses a wider range.
      version = "~> 6.69.0"
      # The caller's DR-region provider: replicas live there. A module configures no provider.
      configuration_aliases = [aws.dr]
    }
  }
}
