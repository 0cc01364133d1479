terraform {
  # The floor of every stack of this template.
  required_version = ">= 1.10.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # Checked offline against the 8.7.0 schema (tfcheck), which refuses a wider range.
      version = "~> 8.7.0"
    }
  }
}
