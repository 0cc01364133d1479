"""Command line: one line per finding, exit 1 if there is any."""

from __future__ import annotations

import argparse
import sys

from .checks import check_paths
from .schema import Schemas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mlops-gitops tfcheck",
        description="Offline Terraform checks: provider schemas (from the installed "
        "cdktn-provider-* packages) and structural rules (tflint's terraform ruleset).",
    )
    parser.add_argument("paths", nargs="+", help="directories (searched recursively) or .tf files")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--schema-only", action="store_true", help="only the provider schema check")
    only.add_argument("--rules-only", action="store_true", help="only the structural rules")
    args = parser.parse_args(argv)

    schemas = Schemas()
    if not schemas.by_provider and not args.rules_only:
        print(
            "tfcheck: no cdktn-provider-* (or cdktf-cdktf-provider-*) package installed: no schema to check against",
            file=sys.stderr,
        )
        return 2
    findings, stats = check_paths(args.paths, schemas, schema_check=not args.rules_only, rules=not args.schema_only)
    for finding in findings:
        print(finding)
    used = [
        f"{schema['provider']['source']} {schema['provider']['version']} "
        f"({stats['by_provider'][name]['resource']} resource, {stats['by_provider'][name]['data']} data)"
        for name, schema in schemas.by_provider.items()
        if name in stats["by_provider"]
    ]
    against = ", ".join(used) if used and not args.rules_only else "no provider schema (--rules-only)"
    print(
        f"tfcheck: {stats['modules']} module(s), {stats['resources']} resource and "
        f"{stats['data']} data block(s) checked against {against}: {len(findings)} finding(s)",
        file=sys.stderr,
    )
    if stats["modules"] == 0:
        print("tfcheck: no .tf file found", file=sys.stderr)
        return 2
    return 1 if findings else 0
