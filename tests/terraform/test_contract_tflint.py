def test_contract_tflint_config():
    """Contract test, not an integration test: tflint and infracost cannot be installed or
    reach their plugin/pricing services here, so this checks statically what the Terraform
    workflow's tflint run relies on: the aws ruleset enabled at a pinned version, the
    terraform ruleset pinned, and the same standard tags as the offline checker."""
    import re

    import hcl2
    from hcl2.utils import SerializationOptions

    from helpers.project import PROJECT_TEMPLATE
    from mlops_gitops.tfcheck.checks import STANDARD_TAGS

    config = hcl2.loads(
        (PROJECT_TEMPLATE / ".tflint.hcl").read_text(),
        serialization_options=SerializationOptions(with_comments=False, strip_string_quotes=True),
    )
    plugins = {k: v for p in config["plugin"] for k, v in p.items() if not k.startswith("__")}
    aws = plugins['"aws"'] if '"aws"' in plugins else plugins["aws"]
    assert aws["enabled"] is True
    assert aws["source"] == "github.com/terraform-linters/tflint-ruleset-aws"
    assert re.fullmatch(r"\d+\.\d+\.\d+", aws["version"]), aws["version"]
    terraform = plugins['"terraform"'] if '"terraform"' in plugins else plugins["terraform"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", terraform["version"])
    rules = {k.strip('"'): v for r in config["rule"] for k, v in r.items() if not k.startswith("__")}
    assert tuple(rules["aws_resource_missing_tags"]["tags"]) == STANDARD_TAGS
    for rule in (
        "terraform_typed_variables",
        "terraform_documented_variables",
        "terraform_documented_outputs",
        "terraform_unused_declarations",
        "terraform_required_version",
        "terraform_required_providers",
    ):
        assert rules[rule]["enabled"] is True, rule
    assert rules["terraform_naming_convention"]["format"] == "snake_case"
