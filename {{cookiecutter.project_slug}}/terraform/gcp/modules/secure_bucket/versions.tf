terraform {
  # Same constraints as the stack that calls this module (terraform/gcp of the project).
  required_version = ">= 1.10.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # Checked offline against the 8.7.0 schema (tfcheck), which refuses a wider range.
      version = "~> 8.7.0"
      # The caller's DR-region provider: replicas live there. A module configures no provider.
      configuration_aliases = [google.dr]
    }
  }
}
