terraform {
  required_version = ">= 1.10.0"

  required_providers {
    github = {
      source = "integrations/github"
      # Checked offline against the 6.9.0 schema (tfcheck); stay on that minor line.
      version = "~> 6.9"
    }
  }
}

# Auth: GITHUB_TOKEN (or `gh auth token`) of a repository admin.
provider "github" {
  owner = local.answers.github_owner
}
