"""Provider schemas, extracted offline from the jsii assemblies of prebuilt provider packages.

Each `cdktn-provider-<name>` wheel (CDK Terrain, current providers) or older
`cdktf-cdktf-provider-<name>` wheel ships `_jsii/<pkg>@<version>.jsii.tgz`, an npm
tarball whose `package/.jsii` JSON describes every resource/data source class. For each
class we take:
  - the Terraform type name from its registry doc link (".../docs/resources/s3_bucket"
    gives "aws_s3_bucket"; checked against the generated `tfResourceType` for all 2211
    aws classes when this was written);
  - its config struct: every property's exact Terraform name from the "#anchor" of its
    doc link, `optional` flag, and whether it is a nested block (doc summary "x block.")
    or a plain argument.
The result is a compact JSON (a few MB instead of 128 MB) cached per package version.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import tarfile
from pathlib import Path

FORMAT = 3
# CDK Terrain's packages first: they carry the current providers (CDKTF's stopped in 2025).
PACKAGE_PREFIXES = ("cdktn-provider-", "cdktf-cdktf-provider-")
# The classes' base types, in either core library (`cdktn.` or `cdktf.`).
BASES = {"TerraformResource", "TerraformDataSource", "TerraformProvider"}

_PROVIDER_LINK = re.compile(
    r"registry\.terraform\.io/providers/([^/]+)/([^/]+)/([^/\s]+)/docs"
    r"(?:/(resources|data-sources)/([a-z0-9_]+))?"
)
# The argument's own link; other links in a description (e.g. "[provider configuration](...#aws-...)")
# must not be mistaken for it, hence the "Docs at Terraform Registry" lead and the end check.
_ANCHOR = re.compile(
    r"Docs at Terraform Registry: \{@link https://registry\.terraform\.io/providers/[^\s}#]*"
    r"#([a-z0-9_]+)[\s}]"
)

# Types that Terraform itself provides (no provider package to read them from).
BUILTIN = {
    "resource": {
        "terraform_data": {"attrs": {"input": False, "triggers_replace": False}, "blocks": {}},
    },
    "data": {
        "terraform_remote_state": {
            "attrs": {"backend": True, "config": False, "defaults": False, "workspace": False},
            "blocks": {},
        },
    },
}


def cache_dir() -> Path:
    env = os.environ.get("TFCHECK_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tfcheck"


def provider_packages() -> list[importlib.metadata.Distribution]:
    """Every installed provider package (aws, github, google, google-beta, azurerm, ...); where
    both families hold the same provider, the CDK Terrain one."""
    found: dict[str, tuple[int, importlib.metadata.Distribution]] = {}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        for rank, prefix in enumerate(PACKAGE_PREFIXES):
            provider = name.removeprefix(prefix)
            if provider != name and (provider not in found or rank < found[provider][0]):
                found[provider] = (rank, dist)
    return [found[k][1] for k in sorted(found)]


def _jsii_tarball(dist: importlib.metadata.Distribution) -> Path:
    for f in dist.files or []:
        if str(f).endswith(".jsii.tgz"):
            return Path(dist.locate_file(f))
    raise FileNotFoundError(f"no .jsii.tgz in {dist.metadata['Name']}")


def _read_assembly(tgz: Path) -> dict:
    with tarfile.open(tgz, "r:gz") as tar:
        for member in tar:
            if member.name == "package/.jsii":
                return json.load(tar.extractfile(member))
    raise FileNotFoundError(f"no package/.jsii in {tgz}")


def _struct_refs(type_ref: dict) -> list[str]:
    """fqn of struct types used by a property type (direct, in a list, or in a union)."""
    if "fqn" in type_ref:
        return [type_ref["fqn"]]
    if "collection" in type_ref:
        return _struct_refs(type_ref["collection"]["elementtype"])
    if "union" in type_ref:
        return [fqn for t in type_ref["union"]["types"] for fqn in _struct_refs(t)]
    return []


def extract(assembly: dict) -> dict:
    """Compact schema: {provider, structs, resource, data, provider_struct}."""
    types = assembly["types"]
    prefix = assembly["name"] + "."

    def short(fqn: str) -> str:
        return fqn[len(prefix) :] if fqn.startswith(prefix) else fqn

    structs: dict[str, dict] = {}

    def add_struct(fqn: str) -> str:
        key = short(fqn)
        if key in structs:
            return key
        structs[key] = entry = {"attrs": {}, "blocks": {}}
        for prop in types[fqn].get("properties", []):
            docs = prop.get("docs", {})
            text = docs.get("summary", "") + " " + docs.get("remarks", "")
            anchor = _ANCHOR.search(text)
            if not anchor:
                continue  # not a Terraform argument (no registry link)
            tf_name = anchor.group(1)
            required = not prop.get("optional", False)
            nested = [r for r in _struct_refs(prop["type"]) if r.startswith(prefix)]
            if nested and docs.get("summary", "").endswith(" block."):
                entry["blocks"][tf_name] = [add_struct(nested[0]), required]
            else:
                # plain arguments, and nested *attributes* (written `x = {...}`)
                entry["attrs"][tf_name] = required
        return key

    schema = {
        "format": FORMAT,
        "provider": None,
        "provider_struct": None,
        "resource": {},
        "data": {},
        "structs": structs,
        # Resources whose labels the provider manages (it adds default_labels): those with a
        # computed terraform_labels. Others' `labels` is something else (a channel's address).
        "labelled": [],
    }
    for ty in types.values():
        core, _, base = (ty.get("base") or "").partition(".")
        if ty.get("kind") != "class" or core not in ("cdktn", "cdktf") or base not in BASES:
            continue
        link = _PROVIDER_LINK.search(ty.get("docs", {}).get("summary", ""))
        if not link:
            continue
        namespace, name, version, kind, slug = link.groups()
        config = [p for p in ty["initializer"]["parameters"] if p["name"] == "config"]
        struct = add_struct(config[0]["type"]["fqn"]) if config else None
        if base == "TerraformProvider":
            schema["provider"] = {"name": name, "source": f"{namespace}/{name}", "version": version}
            schema["provider_struct"] = struct
        else:
            section = "resource" if kind == "resources" else "data"
            # google-beta's types are named google_* like google's own; its doc slugs carry the prefix.
            base_name = name.removesuffix("-beta")
            type_name = slug if slug.startswith(f"{base_name}_") and name != base_name else f"{base_name}_{slug}"
            schema[section][type_name] = struct
            if section == "resource" and any(p["name"] == "terraformLabels" for p in ty.get("properties", [])):
                schema["labelled"].append(type_name)
    if not schema["provider"]:
        raise ValueError(f"no provider class in assembly {assembly['name']}")
    return schema


def load_package_schema(dist: importlib.metadata.Distribution) -> dict:
    """Schema of one provider package, from the cache or extracted once into it."""
    name = dist.metadata["Name"].lower().replace("_", "-")
    path = cache_dir() / f"{name}-{dist.version}-f{FORMAT}.json"
    if path.exists():
        try:
            return json.loads(path.read_text())
        except ValueError:
            pass  # a torn write: extract again
    schema = extract(_read_assembly(_jsii_tarball(dist)))
    schema["package"] = {"name": name, "version": dist.version}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(schema, separators=(",", ":")))
    os.replace(tmp, path)  # atomic: parallel runs never read half a file
    return schema


class Schemas:
    """All installed provider schemas, looked up by Terraform type name."""

    def __init__(self, schemas: list[dict] | None = None):
        if schemas is None:
            schemas = [load_package_schema(d) for d in provider_packages()]
        self.by_provider = {s["provider"]["name"]: s for s in schemas}

    def provider(self, name: str) -> dict | None:
        s = self.by_provider.get(name)
        return s["provider"] if s else None

    def block(self, section: str, type_name: str, provider: str | None = None) -> tuple[dict | None, dict | None]:
        """(block schema, provider schema) for `resource`/`data` type_name, from `provider` when the
        block names one (`provider = google-beta`), else from its type's prefix; None if unknown."""
        if type_name in BUILTIN[section]:
            return BUILTIN[section][type_name], None
        schema = self.by_provider.get(provider or type_name.split("_", 1)[0])
        if not schema:
            return None, None
        key = schema[section].get(type_name)
        return (schema["structs"][key] if key else None), schema

    def labelled(self, type_name: str, provider: str) -> bool:
        """Whether the provider manages this resource type's labels (default_labels apply)."""
        schema = self.by_provider.get(provider)
        return bool(schema) and type_name in schema.get("labelled", ())

    def provider_block(self, name: str) -> tuple[dict | None, dict | None]:
        schema = self.by_provider.get(name)
        if not schema or not schema["provider_struct"]:
            return None, schema
        return schema["structs"][schema["provider_struct"]], schema

    def nested(self, schema: dict | None, key: str) -> dict:
        return schema["structs"][key]
