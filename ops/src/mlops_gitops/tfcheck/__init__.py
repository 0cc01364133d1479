"""tfcheck: offline Terraform checks (provider schemas + structural rules).

Why this exists: `terraform validate` and tflint need to download providers and
plugins, which the places this project is built in cannot do. The prebuilt CDKTF
provider packages on PyPI carry each provider's full schema as a jsii assembly,
so the schema check runs from a pip install. The structural rules replace
tflint's terraform ruleset; tflint itself still runs in the GitHub workflow.

Cloud-independent: every installed `cdktn-provider-*` package is a schema
source. Adding GCP or Azure means adding that package, nothing else.
"""
