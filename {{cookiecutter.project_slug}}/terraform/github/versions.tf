terraform {
  required_version = ">= 1.10.0"

  required_providers {
    github = {
      source = "integrations/github"
      # Checked offline against the 6.13.0 schema (tfcheck), which refuses a wider range.
      version = "~> 6.13.0"
    }
  }
}

# Auth: GITHUB_TOKEN (or `gh auth token`) of a repository admin.
provider "github" {
  owner = local.answers.github_owner
}
