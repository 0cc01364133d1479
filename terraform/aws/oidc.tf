# GitHub Actions OIDC identity provider: one per account. Project stacks create the roles
# that trust it, each scoped to one repository and one subject (no org-wide trust here).
resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  # Since 2023 AWS validates GitHub's certificate against its trusted CAs and ignores
  # thumbprints; provider 6.x makes the list optional, so none is pinned here.
}
