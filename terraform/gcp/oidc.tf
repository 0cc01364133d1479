# GitHub Actions workload identity federation. The pool trusts tokens of one GitHub owner only:
# attribute_condition keys on the numeric owner id, which, unlike the owner's name, cannot be
# re-registered by someone else after a rename. Project stacks bind their CI service accounts
# to exact subjects, e.g.
#   principal://iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/subject/repo:OWNER/REPO:environment:production
# so google.subject is GitHub's raw `sub` (Google allows at most 127 bytes: very long
# owner/repo/environment names do not fit).
#
# A deleted pool stays reserved for 30 days: recreate it under another workload_identity_pool_id
# or undelete it (gcloud iam workload-identity-pools undelete).

resource "google_iam_workload_identity_pool" "github" {
  workload_identity_pool_id = var.workload_identity_pool_id
  display_name              = "GitHub Actions"
  description               = "GitHub Actions workflows of GitHub owner ${var.github_owner_id}"

  depends_on = [google_project_service.main]
}

resource "google_iam_workload_identity_pool_provider" "github" {
  #checkov:skip=CKV_GCP_125:One provider serves every repository of the owner; the exact sub (repo:OWNER/REPO:...) is enforced where project stacks bind their service accounts to principal://.../subject/<sub>.
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = "github"
  display_name                       = "GitHub Actions OIDC"
  attribute_condition                = "assertion.repository_owner_id == \"${var.github_owner_id}\""

  attribute_mapping = {
    "google.subject"                = "assertion.sub"
    "attribute.repository"          = "assertion.repository"
    "attribute.repository_id"       = "assertion.repository_id"
    "attribute.repository_owner_id" = "assertion.repository_owner_id"
    "attribute.environment"         = "assertion.environment"
    "attribute.ref"                 = "assertion.ref"
  }

  # No allowed_audiences: the default audience is this provider's own resource URL, which
  # google-github-actions/auth requests.
  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}
