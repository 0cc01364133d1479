terraform {
  # 1.9 brought validation conditions that read other variables (dr_region != region); 1.10 is
  # the floor every stack of this template shares.
  required_version = ">= 1.10.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # Checked offline against the 8.7.0 schema (tfcheck), which refuses a wider range.
      version = "~> 8.7.0"
    }
    # Only for google_project_service_identity (kms.tf), which google does not have.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 8.7.0"
    }
  }
}
