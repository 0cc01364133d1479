# GitHub Actions OIDC identity provider. IAM holds at most one provider per URL in an account, so
# an account that already has GitHub's (another stack, the console, an earlier tool) cannot create
# a second one: the create fails with EntityAlreadyExists. Hence two ways (docs/cloud/aws.md):
#   create_github_oidc_provider = true  (default): this stack creates and owns the provider;
#   create_github_oidc_provider = false: the existing provider is only looked up by its URL; this
#                                        stack never changes or deletes it.
# Either way local.github_oidc_provider_arn (output aws_oidc_provider_arn) is its ARN. Project
# stacks create the roles that trust it, each scoped to one repository and one subject (no
# org-wide trust here).
#
# Stacks applied before `count` was added keep their provider: Terraform moves the state address
# aws_iam_openid_connect_provider.github to ...github[0] by itself (an implied move), no replace.

locals {
  github_oidc_url      = "https://token.actions.githubusercontent.com"
  github_oidc_audience = "sts.amazonaws.com" # the `aud` every project role's trust policy requires
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 1 : 0

  url            = local.github_oidc_url
  client_id_list = [local.github_oidc_audience]
  # Since 2023 AWS validates GitHub's certificate against its trusted CAs and ignores
  # thumbprints; provider 6.x makes the list optional, so none is pinned here.
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 0 : 1

  url = local.github_oidc_url

  lifecycle {
    postcondition {
      condition     = contains(self.client_id_list, local.github_oidc_audience)
      error_message = "The existing GitHub OIDC provider does not accept the audience sts.amazonaws.com, which every project role requires. Add it: aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn <its ARN> --client-id sts.amazonaws.com"
    }
  }
}

locals {
  # Exactly one of the two lists has an element.
  github_oidc_provider_arn = one(concat(
    aws_iam_openid_connect_provider.github[*].arn,
    data.aws_iam_openid_connect_provider.github[*].arn,
  ))
}
