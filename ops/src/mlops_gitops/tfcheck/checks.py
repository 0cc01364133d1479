"""The checks: schema (arguments/blocks against provider schemas) and structural rules.

A "module" is one directory of .tf files (Terraform's own unit): variables, locals and
provider configurations are resolved per directory. Every finding is one line:
    path:line: rule-id: message
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import hcl2
from hcl2.utils import SerializationOptions

from .schema import Schemas

STANDARD_TAGS = ("project", "environment", "owner", "cost-center", "managed-by")
# Where each provider keeps them: AWS and Azure call them tags; Google Cloud calls them labels
# (same keys; values lowercase) and sets them for every resource with the provider's default_labels.
TAGGING = {"google": ("labels", "default_labels"), "google-beta": ("labels", "default_labels")}
DEFAULT_TAGGING = ("tags", "default_tags")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# Arguments and blocks that Terraform handles itself in every resource/data block.
META_ATTRS = {"count", "for_each", "provider", "depends_on"}
META_BLOCKS = {"lifecycle", "provisioner", "connection"}
SKIP_DIRS = {".terraform", ".git", "node_modules", ".venv"}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"


def unquote(value):
    """python-hcl2 keeps the quotes of string literals and labels: drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _body(block: dict) -> dict:
    return {k: v for k, v in block.items() if not k.startswith("__")}


def _is_block_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and v.get("__is_block__") for v in value)


@dataclass
class Block:
    kind: str  # resource, data, variable, output, locals, provider, terraform, module
    labels: tuple
    body: dict
    path: str
    line: int


class Module:
    """All top-level blocks of the .tf files in one directory."""

    def __init__(self, directory: Path, display: str):
        self.directory = directory
        self.blocks: list[Block] = []
        self.findings: list[Finding] = []
        for tf in sorted(directory.glob("*.tf")):
            shown = f"{display}/{tf.name}" if display else tf.name
            text = tf.read_text()
            try:
                data = hcl2.loads(text, serialization_options=SerializationOptions(with_comments=False))
            except Exception as exc:  # any parse error is a finding, not a crash
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                self.findings.append(Finding(shown, 1, "parse-error", first))
                continue
            for kind, entries in data.items():
                for entry in entries if isinstance(entries, list) else [entries]:
                    for labels, body in _unlabel(kind, entry):
                        line = _line_of(text, kind, labels)
                        self.blocks.append(Block(kind, labels, body, shown, line))

    def of(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == kind]


def _unlabel(kind: str, entry: dict):
    """Yield (labels, body) for a top-level entry: resource "t" "n" {..} nests two labels deep."""
    depth = {"resource": 2, "data": 2, "variable": 1, "output": 1, "provider": 1, "module": 1}.get(kind, 0)

    def walk(node, labels):
        if len(labels) == depth:
            yield tuple(labels), _body(node)
            return
        for key, child in _body(node).items():
            yield from walk(child, [*labels, unquote(key)])

    yield from walk(entry, [])


def _line_of(text: str, kind: str, labels: tuple) -> int:
    pattern = r"^\s*" + re.escape(kind) + "".join(r'\s+"?' + re.escape(str(lab)) + '"?' for lab in labels)
    match = re.search(pattern + r"\s*\{", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def discover(paths: list[str]) -> list[tuple[Path, str]]:
    """Every directory holding .tf files under the given paths (a file means its directory)."""
    dirs: dict[Path, str] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            dirs[p.parent.resolve()] = str(p.parent)
            continue
        for tf in sorted(p.rglob("*.tf")):
            if SKIP_DIRS.intersection(tf.relative_to(p).parts[:-1]):
                continue
            dirs[tf.parent.resolve()] = str(tf.parent)
    return [(d, dirs[d]) for d in sorted(dirs)]


# ---------------------------------------------------------------- schema check


def provider_of(block: Block) -> str:
    """The provider a resource/data block uses: its `provider` meta-argument (`google-beta`,
    `aws.dr`: the name before the alias), else its type's prefix."""
    chosen = block.body.get("provider")
    if isinstance(chosen, str):
        return chosen.removeprefix("${").removesuffix("}").split(".")[0]
    return str(block.labels[0]).split("_", 1)[0]


def check_schema(module: Module, schemas: Schemas) -> list[Finding]:
    out = []
    for block in module.of("resource") + module.of("data"):
        type_name, name = block.labels
        where = f"{'data.' if block.kind == 'data' else ''}{type_name}.{name}"
        prefix = "terraform" if type_name.startswith("terraform_") else provider_of(block)
        schema, provider = schemas.block(block.kind, type_name, prefix)
        if schema is None:
            if provider is None and prefix not in schemas.by_provider:
                msg = f"{where}: no schema for provider '{prefix}' (install its cdktn-provider-{prefix} package)"
                out.append(Finding(block.path, block.line, "schema-unknown-provider", msg))
            else:
                msg = f"{where}: unknown {block.kind} type '{type_name}'"
                out.append(Finding(block.path, block.line, "schema-unknown-type", msg))
            continue
        out += _check_body(block, where, block.body, schema, provider, schemas, top=True)
    for block in module.of("provider"):
        name = block.labels[0]
        schema, provider = schemas.provider_block(name)
        if schema is not None:
            out += _check_body(
                block,
                f"provider.{name}",
                block.body,
                schema,
                provider,
                schemas,
                top=False,
                extra_attrs={"alias"},
            )
    return out


def _check_body(block, where, body, schema, provider, schemas, top, extra_attrs=()):
    out = []
    attrs, blocks = schema["attrs"], schema["blocks"]
    present = set()
    for key, value in body.items():
        key = unquote(key)
        if key == "dynamic" and isinstance(value, list):
            # dynamic "name" { for_each = ..., content { ... } }: check content as block `name`
            for dyn in value:
                for label, dyn_body in _body(dyn).items():
                    label = unquote(label)
                    present.add(label)
                    contents = [_body(c) for c in dyn_body.get("content", [])]
                    out += _check_nested(block, where, label, contents, blocks, provider, schemas)
            continue
        present.add(key)
        if top and (key in META_ATTRS or key in META_BLOCKS):
            continue
        if _is_block_list(value):
            out += _check_nested(block, where, key, [_body(v) for v in value], blocks, provider, schemas)
        elif key in attrs or key in extra_attrs:
            continue
        elif key in blocks:
            out.append(
                Finding(
                    block.path,
                    block.line,
                    "schema-block-as-argument",
                    f"{where}: '{key}' is a nested block, not an argument (no '=')",
                )
            )
        else:
            out.append(Finding(block.path, block.line, "schema-unknown-argument", f"{where}: unknown argument '{key}'"))
    for name, required in attrs.items():
        if required and name not in present:
            out.append(
                Finding(
                    block.path,
                    block.line,
                    "schema-missing-required",
                    f"{where}: missing required argument '{name}'",
                )
            )
    for name, (_, required) in blocks.items():
        if required and name not in present:
            out.append(
                Finding(
                    block.path,
                    block.line,
                    "schema-missing-required",
                    f"{where}: missing required block '{name}'",
                )
            )
    return out


def _check_nested(block, where, key, bodies, blocks, provider, schemas):
    if key not in blocks:
        return [Finding(block.path, block.line, "schema-unknown-block", f"{where}: unknown block '{key}'")]
    nested = schemas.nested(provider, blocks[key][0])
    out = []
    for body in bodies:
        out += _check_body(block, f"{where}.{key}", body, nested, provider, schemas, top=False)
    return out


# ---------------------------------------------------------------- structural rules


def _refs(module: Module, prefix: str) -> set[str]:
    """Names referenced as prefix.NAME anywhere in the module's expressions."""
    found = set()
    pattern = re.compile(r"(?<![\w.])" + prefix + r"\.([A-Za-z0-9_-]+)")
    for block in module.blocks:
        found.update(pattern.findall(json.dumps(block.body)))
    return found


def _locals(module: Module) -> dict[str, tuple[Block, object]]:
    out = {}
    for block in module.of("locals"):
        for name, value in block.body.items():
            out[unquote(name)] = (block, value)
    return out


def _map_keys(value, local_values: dict, seen=()) -> set[str] | None:
    """Keys of a tags expression: a literal map, local.X maps, merge(...) of those.

    Returns None when the keys cannot be known statically (e.g. a variable), which the
    tag rule reports, because an unprovable tag is as good as a missing one for cost reports.
    """
    if isinstance(value, dict):
        return {unquote(k) for k in value if not k.startswith("__")}
    if not isinstance(value, str):
        return None
    keys: set[str] = set()
    names = re.findall(r"(?<![\w.])local\.([A-Za-z0-9_]+)", value)
    for name in names:
        if name in local_values and name not in seen:
            sub = _map_keys(local_values[name][1], local_values, (*seen, name))
            if sub is None:
                return None
            keys |= sub
    if re.search(r"(?<![\w.])var\.", value) and not names:
        return None
    # literal keys inside an object expression, e.g. merge(local.tags, {Name = "x"})
    for obj in re.findall(r"\{([^{}]*)\}", value[2:-1] if value.startswith("${") else value):
        keys |= {unquote(k) for k in re.findall(r'("[^"]+"|[A-Za-z_][\w-]*)\s*=', obj)}
    return keys if (keys or names) else None


def check_rules(module: Module, schemas: Schemas, inherited: dict[str, set] | None = None) -> list[Finding]:
    out = []
    add = lambda b, rule, msg: out.append(Finding(b.path, b.line, rule, msg))  # noqa: E731

    # variables: type + description, used
    used_vars = _refs(module, "var")
    for b in module.of("variable"):
        name = b.labels[0]
        if "type" not in b.body:
            add(b, "variable-type", f"variable '{name}' has no type")
        if not unquote(b.body.get("description", "")):
            add(b, "variable-description", f"variable '{name}' has no description")
        if name not in used_vars:
            add(b, "unused-variable", f"variable '{name}' is declared but not used")

    # locals: used
    local_values = _locals(module)
    used_locals = _refs(module, "local")
    for name, (b, _) in local_values.items():
        if name not in used_locals:
            add(b, "unused-local", f"local '{name}' is defined but not used")

    # outputs documented
    for b in module.of("output"):
        if not unquote(b.body.get("description", "")):
            add(b, "output-description", f"output '{b.labels[0]}' has no description")

    # snake_case names
    for b in module.blocks:
        names = []
        if b.kind in ("resource", "data"):
            names = [b.labels[1]]
        elif b.kind in ("variable", "output", "module"):
            names = [b.labels[0]]
        elif b.kind == "locals":
            names = [unquote(k) for k in b.body]
        elif b.kind == "provider" and "alias" in b.body:
            names = [unquote(b.body["alias"])]
        for n in names:
            if not SNAKE.match(str(n)):
                add(b, "snake-case", f"{b.kind} name '{n}' is not snake_case")

    out += _check_terraform_block(module, schemas)
    out += _check_tags(module, schemas, local_values, inherited or {})
    return out


def _check_terraform_block(module: Module, schemas: Schemas) -> list[Finding]:
    out = []
    tf_blocks = module.of("terraform")
    anchor = tf_blocks[0] if tf_blocks else (module.blocks[0] if module.blocks else None)
    if anchor is None:
        return out
    if not any(unquote(b.body.get("required_version", "")) for b in tf_blocks):
        out.append(Finding(anchor.path, anchor.line, "required-version", "terraform block sets no required_version"))
    declared = {}
    for b in tf_blocks:
        for rp in b.body.get("required_providers", []):
            for name, spec in _body(rp).items():
                declared[unquote(name)] = spec if isinstance(spec, dict) else {}
    used = set()
    for b in module.of("resource") + module.of("data"):
        if not b.labels[0].startswith("terraform_"):
            used.add(provider_of(b))
    used |= {b.labels[0] for b in module.of("provider")}
    for name in sorted(used):
        spec = declared.get(name)
        if spec is None:
            out.append(
                Finding(
                    anchor.path,
                    anchor.line,
                    "provider-constraint",
                    f"provider '{name}' is not in required_providers",
                )
            )
            continue
        want = schemas.provider(name)
        source = unquote(spec.get("source", ""))
        version = unquote(spec.get("version", ""))
        if not version:
            out.append(
                Finding(
                    anchor.path,
                    anchor.line,
                    "provider-constraint",
                    f"provider '{name}' has no version constraint",
                )
            )
            continue
        if want is None:
            continue  # schema check already reports the missing provider package
        if source.lower().removeprefix("registry.terraform.io/") != want["source"]:
            out.append(
                Finding(
                    anchor.path,
                    anchor.line,
                    "provider-constraint",
                    f"provider '{name}' source '{source}' is not '{want['source']}'",
                )
            )
        try:
            ok = constraint_allows(version, want["version"])
        except ValueError as exc:
            out.append(Finding(anchor.path, anchor.line, "provider-constraint", f"provider '{name}': {exc}"))
            continue
        if not ok:
            out.append(
                Finding(
                    anchor.path,
                    anchor.line,
                    "provider-constraint",
                    f"provider '{name}' constraint '{version}' excludes the checked schema version {want['version']}",
                )
            )
            continue
        # `terraform init` installs the newest release the constraint admits: a newer minor than the
        # schema's would be applied unchecked.
        major, minor = _version(want["version"])[:2]
        if constraint_allows(version, f"{major}.{minor + 1}.0"):
            out.append(
                Finding(
                    anchor.path,
                    anchor.line,
                    "provider-constraint",
                    f"provider '{name}' constraint '{version}' admits {major}.{minor + 1}.0 and later, which were "
                    f"not checked: use '~> {major}.{minor}.0' (the schema checked is {want['version']})",
                )
            )
    return out


def tagging(provider: str) -> tuple[str, str]:
    """(argument of a resource, block of the provider) that carry the standard tags."""
    return TAGGING.get(provider, DEFAULT_TAGGING)


def provider_defaults(module: Module) -> dict[str, set]:
    """Default tag (label) keys per provider configuration of the module ("aws" or "aws.alias")."""
    local_values = _locals(module)
    defaults: dict[str, set] = {}
    for b in module.of("provider"):
        name = b.labels[0]
        ref = name + (f".{unquote(b.body['alias'])}" if "alias" in b.body else "")
        argument, default_block = tagging(name)
        keys: set[str] = set()
        found = b.body.get(default_block)
        for dt in found if isinstance(found, list) else []:  # default_tags { tags = {...} }
            keys |= _map_keys(dt.get(argument), local_values) or set()
        if found is not None and not isinstance(found, list):  # default_labels = {...}
            keys |= _map_keys(found, local_values) or set()
        defaults[ref] = keys
    return defaults


def inherited_defaults(modules: list[Module]) -> dict[Path, dict[str, set]]:
    """A child module configures no provider: its default tags are its callers'. For each local
    module source called from the scanned modules: per provider reference inside the child, the
    tag keys that every caller's provider passed for it sets (implicitly, `aws` passes `aws`)."""
    found: dict[Path, dict[str, set]] = {}
    for caller in modules:
        own = provider_defaults(caller)
        for call in caller.of("module"):
            source = unquote(call.body.get("source", ""))
            if not source.startswith(("./", "../")):
                continue
            passed = {p: p for p in own if "." not in p}  # default configurations are inherited
            mapping = call.body.get("providers")
            for inner, outer in _body(mapping).items() if isinstance(mapping, dict) else ():
                passed[str(inner).strip("${}")] = str(outer).strip("${}")
            child = (caller.directory / source).resolve()
            tags = {inner: own.get(outer, set()) for inner, outer in passed.items()}
            if child in found:
                tags = {k: v & found[child].get(k, set()) for k, v in tags.items()}
            found[child] = tags
    return found


def _uppercase_values(value, local_values: dict, seen=()) -> list[str]:
    """Literal label values with capitals (Google Cloud refuses them), through local.X maps."""
    if isinstance(value, dict):
        texts = [v for k, v in value.items() if not k.startswith("__")]
    elif isinstance(value, str):
        texts = re.findall(r'=\s*("[^"]*")', value)
        for name in re.findall(r"(?<![\w.])local\.([A-Za-z0-9_]+)", value):
            if name in local_values and name not in seen:
                texts += _uppercase_values(local_values[name][1], local_values, (*seen, name))
    else:
        return []
    return [t for t in texts if isinstance(t, str) and "${" not in t and unquote(t) != unquote(t).lower()]


def _check_tags(module: Module, schemas: Schemas, local_values: dict, inherited: dict[str, set]) -> list[Finding]:
    out = []
    defaults = {**inherited, **provider_defaults(module)}
    for b in module.of("resource"):
        type_name, name = b.labels
        provider = provider_of(b)
        argument, _ = tagging(provider)
        schema, _ = schemas.block("resource", type_name, provider)
        taggable = (
            schemas.labelled(type_name, provider) if argument == "labels" else "tags" in (schema or {}).get("attrs", {})
        )
        if not schema or not taggable:
            continue
        prov = b.body.get("provider")
        ref = prov[2:-1] if isinstance(prov, str) and prov.startswith("${") else provider
        have = set(defaults.get(ref, set()))
        if argument in b.body:
            own = _map_keys(b.body[argument], local_values)
            if own is None:
                out.append(
                    Finding(
                        b.path,
                        b.line,
                        "standard-tags",
                        f"{type_name}.{name}: {argument} cannot be checked statically "
                        f"(use a literal map, locals or the provider's {tagging(provider)[1]})",
                    )
                )
                continue
            have |= own
        missing = [t for t in STANDARD_TAGS if t not in have]
        if missing:
            out.append(
                Finding(b.path, b.line, "standard-tags", f"{type_name}.{name}: missing {argument} {', '.join(missing)}")
            )
    # Label values: lowercase (Google Cloud's rule), in the provider defaults and on resources.
    for b in module.of("provider") + module.of("resource"):
        provider = b.labels[0] if b.kind == "provider" else provider_of(b)
        argument, default_block = tagging(provider)
        if argument != "labels" or (b.kind == "resource" and not schemas.labelled(b.labels[0], provider)):
            continue
        value = b.body.get(default_block if b.kind == "provider" else argument)
        for text in _uppercase_values(value, local_values):
            out.append(
                Finding(
                    b.path,
                    b.line,
                    "label-values",
                    f"{'.'.join(b.labels)}: label value {text} has capitals (Google Cloud allows lowercase only)",
                )
            )
    return out


# ---------------------------------------------------------------- version constraints


def _version(text: str) -> tuple[int, ...]:
    text = text.strip().lstrip("v")
    if not re.fullmatch(r"\d+(\.\d+){0,2}", text):
        raise ValueError(f"unsupported version '{text}'")
    return tuple(int(p) for p in text.split("."))


def constraint_allows(constraint: str, version: str) -> bool:
    """Terraform version-constraint semantics for =, !=, >, >=, <, <=, ~>."""
    have = _version(version)
    have3 = have + (0,) * (3 - len(have))
    for part in constraint.split(","):
        m = re.fullmatch(r"\s*(~>|>=|<=|!=|=|>|<)?\s*(\S+)\s*", part)
        if not m:
            raise ValueError(f"cannot parse constraint '{part.strip()}'")
        op, raw = m.group(1) or "=", m.group(2)
        want = _version(raw)
        want3 = want + (0,) * (3 - len(want))
        if op == "~>":
            # ~> 6.25 allows >= 6.25.0, < 7.0; ~> 6.25.1 allows >= 6.25.1, < 6.26
            upper = list(want[:-1]) if len(want) > 1 else [want[0]]
            upper[-1] += 1
            upper3 = tuple(upper) + (0,) * (3 - len(upper))
            if not (want3 <= have3 < upper3):
                return False
        elif not {
            "=": have3 == want3,
            "!=": have3 != want3,
            ">": have3 > want3,
            ">=": have3 >= want3,
            "<": have3 < want3,
            "<=": have3 <= want3,
        }[op]:
            return False
    return True


# ---------------------------------------------------------------- entry


def check_paths(
    paths: list[str], schemas: Schemas | None = None, schema_check: bool = True, rules: bool = True
) -> tuple[list[Finding], dict]:
    """Run the checks on every module under paths. Returns (findings, stats)."""
    schemas = schemas or Schemas()
    findings: list[Finding] = []
    stats: dict = {"modules": 0, "resources": 0, "data": 0, "by_provider": {}}
    modules = [Module(directory, display) for directory, display in discover(paths)]
    inherited = inherited_defaults(modules)
    for module in modules:
        stats["modules"] += 1
        stats["resources"] += len(module.of("resource"))
        stats["data"] += len(module.of("data"))
        for block in module.of("resource") + module.of("data"):
            if not block.labels[0].startswith("terraform_"):
                counts = stats["by_provider"].setdefault(provider_of(block), {"resource": 0, "data": 0})
                counts[block.kind] += 1
        findings += module.findings
        if schema_check:
            findings += check_schema(module, schemas)
        if rules:
            findings += check_rules(module, schemas, inherited.get(module.directory.resolve()))
    return findings, stats
