# tflint cannot be installed where the template is built, so the offline equivalent runs
# locally (`make tf-rules`: mlops-gitops tfcheck); tflint itself runs in the Terraform workflow.
# `tflint --init` downloads the pinned plugin versions below.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
  version = "0.10.0"
  source  = "github.com/terraform-linters/tflint-ruleset-terraform"
}

plugin "aws" {
  enabled = true
  version = "0.40.0"
  source  = "github.com/terraform-linters/tflint-ruleset-aws"
}

rule "terraform_naming_convention" {
  enabled = true
  format  = "snake_case"
}

rule "terraform_documented_variables" {
  enabled = true
}

rule "terraform_documented_outputs" {
  enabled = true
}

rule "terraform_typed_variables" {
  enabled = true
}

rule "terraform_unused_declarations" {
  enabled = true
}

rule "terraform_required_version" {
  enabled = true
}

rule "terraform_required_providers" {
  enabled = true
}

rule "aws_resource_missing_tags" {
  enabled = true
  tags    = ["project", "environment", "owner", "cost-center", "managed-by"]
}
