"""Permission harness: run a workflow step's real commands as one CI identity, with that identity's
rendered policy enforced, and report every call it made and whether the policy allowed it.

Three parts, the last one per cloud:

1. **Ledger and report** (cloud-neutral): every call an identity makes, with the workflow step
   that made it, the action, the resource, the verdict and the statement that granted it.
2. **MLflow gate** (cloud-neutral, parameterised by the cloud's action names): a reverse proxy in
   front of the session's real `mlflow server`. It maps each REST call to its MLflow RPC with the
   route table of MLflow's own protobuf service descriptors (read once, in the project environment:
   the template's environment has no mlflow), names the cloud action (AWS: `sagemaker-mlflow:<Rpc>`,
   the Service Authorization Reference's names) and asks the identity's policy. Denied: 403 with
   `{"error_code": "PERMISSION_DENIED", "message": "<identity> may not <action>"}`, as the MLflow
   client reports a server's refusal. The artifact-proxy routes (`/api/2.0/mlflow-artifacts/...`) are
   refused: SageMaker's MLflow has no artifact proxy, clients write to S3 with their own role.
3. **AWS**: the project's Terraform (`terraform/aws`, the rendered files) read with python-hcl2 and
   evaluated by a small evaluator that knows exactly the expressions those files use (locals,
   `var.*` defaults, module inputs/outputs, `for` expressions, `values()`, templates, the computed
   `arn`/`id` of buckets, roles and policies) and raises `UnknownReference` on anything else, so a
   statement is never dropped or half-read. The roles, their policies (managed + attachment,
   inline) and the policy documents become IAM JSON. Then moto's server with IAM enforcement:
   the roles and policies as the Terraform creates them, the buckets under the names the
   Terraform gives them, `sts:AssumeRole` into each role, and the step's commands (`make pull`,
   `make pipeline`, `make push`, `make promote`...) run with the assumed-role credentials. A
   recording proxy in front of moto names each S3 call (action, resource) per identity.

What moto (5.2) enforces, read in `moto/iam/access_control.py` and `moto/core/authorization.py`:
- assumed-role credentials are checked (`AssumedRoleAccessKey`: the role's inline and attached
  policies), signature and session token included;
- S3 actions against resources: `arn:aws:s3:::bucket` for bucket calls, `arn:aws:s3:::bucket/key`
  for object calls, with `*` wildcards; an explicit Deny wins.
What it does NOT enforce, and what the harness does about it:
- **Conditions**: moto only evaluates `StringEquals` on keys it collects (`sts:ExternalId`), and
  treats any other condition as met, i.e. it would grant MORE than AWS. Statements with a
  `condition` are therefore left out of the policies installed in moto (moto never grants more
  than AWS would); none of the steps exercised here needs one (they concern the Terraform state
  bucket and `iam:PassRole`).
- **KMS through S3**: moto does not call KMS for SSE-KMS objects. The harness adds, for every
  object write or read that moto allowed, the KMS call AWS makes for the caller
  (`kms:GenerateDataKey` on write, `kms:Decrypt` on read, on the bucket's key as the module's
  encryption configuration names it), decided statically against the rendered statements and
  marked `static` in the report.
- Bucket policies, SCPs, permission boundaries, session policies: none are used by the project.
- moto's action names follow its own table (e.g. HEAD on a bucket is `s3:HeadBucket` there, AWS
  checks `s3:ListBucket`); every S3 call is also decided statically and the report flags a
  disagreement.
The MLflow gate has no conditions either: a statement with a condition grants nothing there.
One RPC has no action of its own in the reference: MLflow 3's `CreateLoggedModel`, authorised as
`LogModel` (`SAGEMAKER_RENAMES`: AWS's sample policy for MLflow 3, not a live server, says so).
`GET /health` is not an RPC: the package probes an http:// tracking URI with it (never an ARN);
it is recorded as `unchecked` and forwarded.

On GitHub the roles are assumed with `sts:AssumeRoleWithWebIdentity` (OIDC); moto cannot issue
GitHub tokens, so the moto copy of each role trusts the harness's admin user for
`sts:AssumeRole` instead. The trust policies themselves are checked by the Terraform tests.

Use: `AwsCiHarness(project, root, venv, mlflow_url)` for a rendered AWS project; `.run(identity,
*targets)` runs `make` as `pr`, `deploy` or `backup` (every role of `aws_iam_role.ci`); `.variant(name, of, edit)` adds an identity from an
edited ci_roles.tf; `.ledger` holds the calls (`report`, `summary`, `actions`, `denied`).

For GCP and Azure: keep parts 1 and 2, give `MlflowGate` the cloud's `namer` and `decide` (their
tracking servers authorise per service, not per RPC: one action for every route), and write the
Terraform reading for their identities (IAM bindings, role assignments) next to `aws_ci_roles`.
docs/permissions.md has the details.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import threading
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import hcl2

from helpers.project import QUIET_ENV
from helpers.storage import S3Emulator

# --------------------------------------------------------------------------------------------
# 1. Ledger and report


@dataclass(frozen=True)
class Decision:
    allowed: bool
    by: str | None = None  # the Sid that allows, or denies explicitly
    note: str = ""


@dataclass(frozen=True)
class Call:
    identity: str
    step: str
    action: str
    resource: str
    allowed: bool | None  # None: not an authorised action (forwarded unchecked)
    how: str  # "gate" (MLflow proxy), "moto" (S3 emulator), "static" (rendered statements only)
    by: str | None = None
    note: str = ""


class Ledger:
    """Every call of every identity, in order; `step` names the workflow step now running."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.step = "setup"
        self._lock = threading.Lock()

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def of(self, identity: str, step: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.identity == identity and (step is None or c.step == step)]

    def actions(self, identity: str, prefix: str = "", step: str | None = None) -> set[str]:
        return {c.action for c in self.of(identity, step) if c.action.startswith(prefix)}

    def denied(self, identity: str, step: str | None = None) -> list[Call]:
        return [c for c in self.of(identity, step) if c.allowed is False]

    def report(self, identity: str, steps: Iterable[str] | None = None) -> str:
        """One block per step: `allowed|DENIED  action  resource  xcount  (Sid; how)`."""
        chosen = list(steps) if steps is not None else list(dict.fromkeys(c.step for c in self.of(identity)))
        lines = [f"== identity {identity} =="]
        for step in chosen:
            rows = Counter(
                (
                    {True: "allowed", False: "DENIED", None: "unchecked"}[c.allowed],
                    c.action,
                    summarise(c.resource),
                    c.by or "-",
                    c.how,
                    c.note,
                )
                for c in self.of(identity, step)
            )
            lines.append(f"-- {step}: {sum(rows.values())} call(s)")
            for (verdict, action, resource, by, how, note), count in sorted(rows.items(), key=lambda r: r[0][1:3]):
                extra = f"; {note}" if note else ""
                lines.append(f"   {verdict:9} {action:48} {resource}  x{count}  ({by}; {how}{extra})")
        return "\n".join(lines)

    def summary(self, identity: str) -> str:
        """Each action the identity used, with its verdicts and the steps that used it."""
        used: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
        for call in self.of(identity):
            verdicts, steps = used.setdefault((call.action, summarise(call.resource)), (set(), set()))
            verdicts.add({True: "allowed", False: "DENIED", None: "unchecked"}[call.allowed])
            steps.add(call.step)
        lines = [f"== {identity}: {len(used)} action/resource pair(s) =="]
        for (action, resource), (verdicts, steps) in sorted(used.items()):
            lines.append(f"   {'/'.join(sorted(verdicts)):9} {action:48} {resource}  [{', '.join(sorted(steps))}]")
        return "\n".join(lines)


def summarise(resource: str) -> str:
    """An S3 object ARN cut after two key segments (`bucket/dvc/files/*`); other ARNs as they are."""
    if resource.startswith("arn:aws:s3:::") and resource.count("/") > 2:
        bucket, *key = resource.removeprefix("arn:aws:s3:::").split("/")
        return f"arn:aws:s3:::{bucket}/{'/'.join(key[:2])}/*"
    return resource


# --------------------------------------------------------------------------------------------
# IAM statement evaluation (AWS's policy language; the gate's `decide` for AWS)


def _glob(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def decide(statements: list[dict[str, Any]], action: str, resource: str) -> Decision:
    """IAM's identity-policy evaluation for one call: an explicit Deny wins, then any Allow.
    Actions match case-insensitively, resources case-sensitively, both with `*` and `?`. A
    statement with a Condition grants nothing here (its context is unknown): conservative."""
    allowed_by = None
    conditional = []
    for statement in statements:
        if {"NotAction", "NotResource", "Principal", "NotPrincipal"} & statement.keys():
            raise UnknownReference(f"statement {statement.get('Sid')}: only Action/Resource statements are evaluated")
        if not any(_glob(p, action, True) for p in _listed(statement["Action"])):
            continue
        if not any(_glob(p, resource, False) for p in _listed(statement["Resource"])):
            continue
        sid = statement.get("Sid") or "(no Sid)"
        if statement.get("Condition"):
            if statement["Effect"] == "Deny":
                raise UnknownReference(f"statement {sid}: a conditional Deny cannot be evaluated here")
            conditional.append(sid)
            continue
        if statement["Effect"] == "Deny":
            return Decision(False, sid, "explicit deny")
        allowed_by = allowed_by or sid
    if allowed_by:
        return Decision(True, allowed_by)
    return Decision(False, None, f"only conditional statements match: {', '.join(conditional)}" if conditional else "")


def unconditional(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if not s.get("Condition")]


# --------------------------------------------------------------------------------------------
# 3a. Terraform: read the rendered files, evaluate what the policies reference


class UnknownReference(Exception):
    """An expression the evaluator does not know: the harness stops instead of guessing."""


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _is_meta(key: str) -> bool:
    return key.startswith("__")


@dataclass
class _Namespace:
    kind: str  # "local", "var", "module", "data", "resource:<type>", "data:<type>", "remote_state"


@dataclass
class _Instance:
    """One instance of a resource: its arguments are evaluated with its `each`, on demand."""

    module: Module
    type: str
    name: str
    body: dict[str, Any]
    each: dict[str, Any] | None = None

    def attr(self, name: str) -> Any:
        scope = {"each": self.each} if self.each is not None else {}
        computed = COMPUTED.get(self.type, {})
        if name in computed:
            return computed[name](self, lambda arg: self.module.evaluate(self.body[arg], scope))
        if name in self.body and not _is_meta(name):
            return self.module.evaluate(self.body[name], scope)
        raise UnknownReference(f"{self.type}.{self.name}.{name}: not an argument, and no computed value is known")


def _account(instance: _Instance) -> str:
    return instance.module.facts()["account_id"]


def _region(instance: _Instance) -> str:
    return instance.module.facts()["region"]


# The computed attributes of the resource types the CI policies reference, as AWS forms them.
COMPUTED: dict[str, dict[str, Callable[[_Instance, Callable[[str], Any]], Any]]] = {
    "aws_s3_bucket": {
        "id": lambda i, arg: arg("bucket"),
        "arn": lambda i, arg: f"arn:aws:s3:::{arg('bucket')}",
    },
    "aws_iam_role": {
        "id": lambda i, arg: arg("name"),
        "arn": lambda i, arg: f"arn:aws:iam::{_account(i)}:role/{arg('path') if 'path' in i.body else ''}{arg('name')}",
    },
    "aws_iam_policy": {
        "id": lambda i, arg: f"arn:aws:iam::{_account(i)}:policy/{arg('name')}",
        "arn": lambda i, arg: f"arn:aws:iam::{_account(i)}:policy/{arg('name')}",
    },
    # The training image repository (training.tf), named in a repository variable.
    "aws_ecr_repository": {
        "arn": lambda i, arg: f"arn:aws:ecr:{_region(i)}:{_account(i)}:repository/{arg('name')}",
        "repository_url": lambda i, arg: f"{_account(i)}.dkr.ecr.{_region(i)}.amazonaws.com/{arg('name')}",
    },
}


class Module:
    """One Terraform module folder (its *.tf files, not sub-folders) and an evaluator for the
    expressions that its blocks hold, as python-hcl2 8 returns them: `"..."` for a string
    template, `${...}` for one expression."""

    def __init__(
        self,
        folder: Path,
        variables: dict[str, Callable[[], Any]] | None = None,
        parent: Module | None = None,
        remote_states: dict[str, Module] | None = None,
    ) -> None:
        self.folder, self.parent = folder, parent
        self.remote_states = remote_states or {}
        blocks: dict[str, list[Any]] = defaultdict(list)
        for path in sorted(folder.glob("*.tf")):
            with path.open() as handle:
                for key, value in hcl2.load(handle).items():
                    if not _is_meta(key):
                        blocks[key].extend(value)
        self.blocks = blocks
        self.locals = {k: v for block in blocks["locals"] for k, v in block.items() if not _is_meta(k)}
        self.resources = self._typed(blocks["resource"])
        self.data = self._typed(blocks["data"])
        self.modules = {_unquote(k): v for block in blocks["module"] for k, v in block.items() if not _is_meta(k)}
        self.outputs = {_unquote(k): v for block in blocks["output"] for k, v in block.items() if not _is_meta(k)}
        declared = {_unquote(k): v for block in blocks["variable"] for k, v in block.items() if not _is_meta(k)}
        if variables is None:  # a root: each variable's default
            variables = {
                name: (lambda body=body, name=name: self._default(name, body)) for name, body in declared.items()
            }
        self.variables = variables
        self._memo: dict[tuple[str, str], Any] = {}
        self._children: dict[str, Module] = {}

    @staticmethod
    def _typed(blocks: list[Any]) -> dict[str, dict[str, dict[str, Any]]]:
        typed: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for block in blocks:
            for kind, named in block.items():
                if _is_meta(kind):
                    continue
                for name, body in named.items():
                    if not _is_meta(name):
                        typed[_unquote(kind)][_unquote(name)] = body
        return typed

    def _default(self, name: str, body: dict[str, Any]) -> Any:
        if "default" not in body:
            raise UnknownReference(f"var.{name} has no default in {self.folder}")
        return self.evaluate(body["default"], {})

    def facts(self) -> dict[str, str]:
        """What the provider knows: the account, from the root's `provider "aws"` (no alias)
        `allowed_account_ids`, the one account its resources may live in, and its `region`."""
        if self.parent is not None:
            return self.parent.facts()
        if ("facts", "") not in self._memo:
            providers = [p for block in self.blocks["provider"] for k, p in block.items() if _unquote(k) == "aws"]
            main = [p for p in providers if "alias" not in p]
            if len(main) != 1 or "allowed_account_ids" not in main[0]:
                raise UnknownReference(f'{self.folder}: no provider "aws" with allowed_account_ids')
            accounts = self.evaluate(main[0]["allowed_account_ids"], {})
            facts = {"account_id": str(accounts[0])}
            if "region" in main[0]:
                facts["region"] = str(self.evaluate(main[0]["region"], {}))
            self._memo[("facts", "")] = facts
        return dict(self._memo[("facts", "")])

    # ---- names

    def local(self, name: str) -> Any:
        if name not in self.locals:
            raise UnknownReference(f"local.{name} is not defined in {self.folder}")
        key = ("local", name)
        if key not in self._memo:
            self._memo[key] = self.evaluate(self.locals[name], {})
        return self._memo[key]

    def variable(self, name: str) -> Any:
        if name not in self.variables:
            raise UnknownReference(f"var.{name} is not declared in {self.folder}")
        return self.variables[name]()

    def child(self, name: str) -> Module:
        if name not in self._children:
            if name not in self.modules:
                raise UnknownReference(f"module.{name} is not declared in {self.folder}")
            body = self.modules[name]
            source = self.evaluate(body["source"], {})
            if not source.startswith("./"):
                raise UnknownReference(f"module.{name}: only local sources are read (not {source})")
            inputs = {
                arg: (lambda raw=raw: self.evaluate(raw, {}))
                for arg, raw in body.items()
                if not _is_meta(arg) and arg not in ("source", "providers", "version", "count", "for_each")
            }
            child = Module(self.folder / source, variables=inputs, parent=self)
            declared = {
                _unquote(k): v for block in child.blocks["variable"] for k, v in block.items() if not _is_meta(k)
            }
            for missing in declared.keys() - inputs.keys():
                inputs[missing] = lambda body=declared[missing], missing=missing: child._default(missing, body)
            self._children[name] = child
        return self._children[name]

    def output(self, name: str) -> Any:
        if name not in self.outputs:
            raise UnknownReference(f"output {name} is not declared in {self.folder}")
        return self.evaluate(self.outputs[name]["value"], {})

    def instances(self, kind: str, name: str, data: bool = False) -> _Instance | dict[Any, _Instance]:
        table = self.data if data else self.resources
        if name not in table.get(kind, {}):
            raise UnknownReference(f"{'data.' if data else ''}{kind}.{name} is not declared in {self.folder}")
        body = table[kind][name]
        if "count" in body:
            raise UnknownReference(f"{kind}.{name}: count is not evaluated")
        if "for_each" not in body:
            return _Instance(self, kind, name, body)
        each = self.evaluate(body["for_each"], {})
        if isinstance(each, list):
            each = {item: item for item in each}
        if not isinstance(each, dict):
            raise UnknownReference(f"{kind}.{name}: for_each is neither a map nor a set")
        return {key: _Instance(self, kind, name, body, {"key": key, "value": value}) for key, value in each.items()}

    # ---- expressions

    def evaluate(self, raw: Any, scope: dict[str, Any]) -> Any:
        if isinstance(raw, bool | int | float) or raw is None:
            return raw
        if isinstance(raw, list):
            return [self.evaluate(item, scope) for item in raw]
        if isinstance(raw, dict):
            if raw.get("__is_block__"):
                raise UnknownReference(f"a block where a value was expected in {self.folder}")
            return {_unquote(k): self.evaluate(v, scope) for k, v in raw.items() if not _is_meta(k)}
        if not isinstance(raw, str):
            raise UnknownReference(f"{raw!r}: not a value python-hcl2 returns")
        if raw.startswith('"') and raw.endswith('"'):
            parser = _Parser(self, raw, 0, scope)
            value = parser.template()
            parser.end()
            return value
        if raw.startswith("${") and raw.endswith("}"):
            parser = _Parser(self, raw, 2, scope)
            value = parser.expr()
            parser.ws()
            parser.expect("}")
            parser.end()
            return value
        raise UnknownReference(f"{raw!r}: neither a string nor an expression")


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class _Parser:
    """Recursive descent over one HCL expression: templates, list/object literals and `for`
    expressions, traversals (`a.b["c"]`), calls of `values`, `keys`, `merge`, `toset` (strings),
    `replace` (plain strings), `substr` (from an offset) and `trimsuffix`. Anything else raises."""

    def __init__(self, module: Module, text: str, pos: int, scope: dict[str, Any]) -> None:
        self.module, self.text, self.pos, self.scope = module, text, pos, scope

    def fail(self, why: str) -> UnknownReference:
        return UnknownReference(f"{why} at {self.pos} in {self.text!r} ({self.module.folder})")

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def expect(self, token: str) -> None:
        self.ws()
        if not self.text.startswith(token, self.pos):
            raise self.fail(f"expected {token!r}")
        self.pos += len(token)

    def end(self) -> None:
        if self.pos != len(self.text):
            raise self.fail("unexpected text")

    def ident(self) -> str:
        self.ws()
        found = _IDENT.match(self.text, self.pos)
        if not found:
            raise self.fail("expected a name")
        self.pos = found.end()
        return found.group()

    def keyword(self, word: str) -> bool:
        self.ws()
        found = _IDENT.match(self.text, self.pos)
        if found and found.group() == word:
            self.pos = found.end()
            return True
        return False

    def template(self) -> str:
        self.expect('"')
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise self.fail("unterminated string")
            if self.text.startswith("$${", self.pos) or self.text.startswith("%%{", self.pos):
                out.append(self.text[self.pos + 1 : self.pos + 3])
                self.pos += 3
            elif self.text.startswith("%{", self.pos):
                raise self.fail("template directives are not evaluated")
            elif self.text.startswith("${", self.pos):
                self.pos += 2
                value = self.expr()
                self.expect("}")
                if not isinstance(value, str | int | float) or isinstance(value, bool):
                    raise self.fail(f"interpolation of a {type(value).__name__}")
                out.append(str(value))
            elif self.peek() == "\\":
                escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
                escaped = self.peek(2)[1:]
                if escaped not in escapes:
                    raise self.fail(f"escape \\{escaped}")
                out.append(escapes[escaped])
                self.pos += 2
            elif self.peek() == '"':
                self.pos += 1
                return "".join(out)
            else:
                out.append(self.peek())
                self.pos += 1

    def expr(self) -> Any:
        self.ws()
        head = self.peek()
        if head == '"':
            return self.template()
        if head == "[":
            return self.list_or_for()
        if head == "{":
            return self.object_for()
        if head.isdigit():
            found = re.compile(r"\d+").match(self.text, self.pos)
            assert found
            self.pos = found.end()
            return int(found.group())
        name = self.ident()
        self.ws()
        if self.peek() == "(":
            return self.call(name)
        value = self.root(name)
        while True:
            if self.peek() == ".":
                self.pos += 1
                value = self.attr(value, self.ident())
            elif self.peek() == "[":
                self.pos += 1
                key = self.expr()
                self.expect("]")
                value = self.index(value, key)
            else:
                return value

    def root(self, name: str) -> Any:
        if name in self.scope:
            return self.scope[name]
        if name in ("local", "var", "module", "data"):
            return _Namespace(name)
        if name.startswith("aws_") or name.startswith("google_") or name.startswith("azurerm_"):
            return _Namespace(f"resource:{name}")
        if name in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[name]
        raise self.fail(f"unknown name {name!r}")

    def attr(self, value: Any, name: str) -> Any:
        if isinstance(value, _Namespace):
            kind = value.kind
            if kind == "local":
                return self.module.local(name)
            if kind == "var":
                return self.module.variable(name)
            if kind == "module":
                return _Namespace(f"module:{name}")
            if kind.startswith("module:"):
                return self.module.child(kind.split(":", 1)[1]).output(name)
            if kind == "data":
                return _Namespace(f"data:{name}")
            if kind == "data:terraform_remote_state":
                if name not in self.module.remote_states:
                    raise self.fail(f"data.terraform_remote_state.{name} is not given to the harness")
                return _Namespace(f"remote_state:{name}")
            if kind.startswith("remote_state:"):
                if name != "outputs":
                    raise self.fail(f"remote state attribute {name!r}")
                return _Namespace(f"outputs:{kind.split(':', 1)[1]}")
            if kind.startswith("outputs:"):
                return self.module.remote_states[kind.split(":", 1)[1]].output(name)
            if kind.startswith("resource:"):
                return self.module.instances(kind.split(":", 1)[1], name)
            if kind.startswith("data:"):
                raise self.fail(f"data.{kind.split(':', 1)[1]}.{name} has no known value")
        if isinstance(value, _Instance):
            return value.attr(name)
        if isinstance(value, dict) and name in value:
            return value[name]
        raise self.fail(f"no attribute {name!r}")

    def index(self, value: Any, key: Any) -> Any:
        try:
            return value[key]
        except (KeyError, IndexError, TypeError):
            raise self.fail(f"no element {key!r}") from None

    def call(self, name: str) -> Any:
        self.expect("(")
        arguments = [self.expr()]
        self.ws()
        while self.peek() == ",":
            self.pos += 1
            arguments.append(self.expr())
            self.ws()
        self.expect(")")
        if name in ("values", "keys") and len(arguments) == 1 and isinstance(arguments[0], dict):
            ordered = sorted(arguments[0])  # Terraform returns both in lexical order of the keys
            return [arguments[0][k] for k in ordered] if name == "values" else ordered
        if name == "toset" and len(arguments) == 1 and isinstance(arguments[0], list):
            if not all(isinstance(a, str) for a in arguments[0]):
                raise self.fail("toset() of anything but strings is not evaluated")
            return sorted(set(arguments[0]))  # a set of strings: lexical order, as Terraform's
        if name == "merge" and all(isinstance(a, dict) for a in arguments):
            return {k: v for a in arguments for k, v in a.items()}
        if name == "substr" and len(arguments) == 3 and isinstance(arguments[0], str):
            offset, length = arguments[1], arguments[2]  # non-negative offsets only
            if not (isinstance(offset, int) and isinstance(length, int) and offset >= 0):
                raise self.fail("substr() with these arguments is not evaluated")
            return arguments[0][offset:] if length == -1 else arguments[0][offset : offset + length]
        if name == "trimsuffix" and len(arguments) == 2 and all(isinstance(a, str) for a in arguments):
            return arguments[0].removesuffix(arguments[1])
        if name == "replace" and len(arguments) == 3 and all(isinstance(a, str) for a in arguments):
            if arguments[1].startswith("/") and arguments[1].endswith("/"):
                raise self.fail("replace() with a regular expression is not evaluated")
            return arguments[0].replace(arguments[1], arguments[2])
        raise self.fail(f"function {name}() with these arguments is not evaluated")

    def _for_head(self) -> tuple[list[str], Any]:
        names = [self.ident()]
        self.ws()
        if self.peek() == ",":
            self.pos += 1
            names.append(self.ident())
        if not self.keyword("in"):
            raise self.fail("expected 'in'")
        collection = self.expr()
        self.expect(":")
        return names, collection

    @staticmethod
    def _pairs(names: list[str], collection: Any) -> Iterator[dict[str, Any]]:
        items = collection.items() if isinstance(collection, dict) else enumerate(collection)
        for key, value in items:
            yield {names[0]: key, names[1]: value} if len(names) == 2 else {names[0]: value}

    def _body(self, start: int, bindings: dict[str, Any]) -> tuple[Any, int]:
        """Evaluate the expression at `start` with `bindings` added to the scope."""
        inner = _Parser(self.module, self.text, start, {**self.scope, **bindings})
        value = inner.expr()
        return value, inner.pos

    def list_or_for(self) -> list[Any]:
        self.expect("[")
        if not self.keyword("for"):
            items: list[Any] = []
            self.ws()
            while self.peek() != "]":
                items.append(self.expr())
                self.ws()
                if self.peek() == ",":
                    self.pos += 1
                    self.ws()
            self.pos += 1
            return items
        names, collection = self._for_head()
        start, result, end = self.pos, [], None
        for bindings in self._pairs(names, collection):
            value, end = self._body(start, bindings)
            result.append(value)
        if end is None:  # an empty collection: parse the body once without evaluating it
            raise self.fail("a for expression over an empty collection is not evaluated")
        self.pos = end
        if self.keyword("if"):
            raise self.fail("'if' in a for expression is not evaluated")
        self.expect("]")
        return result

    def object_for(self) -> dict[Any, Any]:
        self.expect("{")
        if not self.keyword("for"):
            raise self.fail("object literals inside expressions are not evaluated")
        names, collection = self._for_head()
        start, result, end = self.pos, {}, None
        for bindings in self._pairs(names, collection):
            key, after_key = self._body(start, bindings)
            inner = _Parser(self.module, self.text, after_key, {**self.scope, **bindings})
            inner.expect("=>")
            result[key] = inner.expr()
            end = inner.pos
        if end is None:
            raise self.fail("a for expression over an empty collection is not evaluated")
        self.pos = end
        if self.keyword("if"):
            raise self.fail("'if' in a for expression is not evaluated")
        self.expect("}")
        return result


STATEMENT_ARGUMENTS = {"sid", "effect", "actions", "resources", "condition"}


def policy_document(module: Module, name: str) -> dict[str, Any]:
    """`data "aws_iam_policy_document" "<name>"` as IAM JSON (Sid, Effect, Action, Resource, Condition)."""
    body = module.data.get("aws_iam_policy_document", {}).get(name)
    if body is None:
        raise UnknownReference(f"data.aws_iam_policy_document.{name} is not declared in {module.folder}")
    if "for_each" in body or "count" in body:
        raise UnknownReference(f"data.aws_iam_policy_document.{name}: for_each/count documents are not evaluated")
    extra = {k for k in body if not _is_meta(k)} - {"statement"}
    if extra:
        raise UnknownReference(f"data.aws_iam_policy_document.{name}: {sorted(extra)} are not evaluated")
    statements = []
    for raw in body.get("statement", []):
        unknown = {k for k in raw if not _is_meta(k)} - STATEMENT_ARGUMENTS
        if unknown:
            raise UnknownReference(f"data.aws_iam_policy_document.{name}: statement arguments {sorted(unknown)}")
        statement: dict[str, Any] = {
            "Effect": module.evaluate(raw["effect"], {}) if "effect" in raw else "Allow",
            "Action": _flat(module.evaluate(raw["actions"], {})),
            "Resource": _flat(module.evaluate(raw["resources"], {})),
        }
        if "sid" in raw:
            statement = {"Sid": module.evaluate(raw["sid"], {}), **statement}
        conditions: dict[str, dict[str, list[str]]] = {}
        for condition in raw.get("condition", []):
            test, variable = module.evaluate(condition["test"], {}), module.evaluate(condition["variable"], {})
            conditions.setdefault(test, {})[variable] = _flat(module.evaluate(condition["values"], {}))
        if conditions:
            statement["Condition"] = conditions
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def _flat(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    flat: list[str] = []
    for item in items:
        flat.extend(_flat(item) if isinstance(item, list) else [item])
    if not all(isinstance(item, str) for item in flat):
        raise UnknownReference(f"{value!r}: a list of strings was expected")
    return flat


@dataclass
class Policy:
    name: str
    kind: str  # "managed" (aws_iam_policy + attachment) or "inline" (aws_iam_role_policy)
    document_name: str  # data.aws_iam_policy_document.<document_name>
    document: dict[str, Any]


@dataclass
class Role:
    key: str  # the for_each key: "pr", "deploy"
    name: str  # the IAM role name
    arn: str
    policies: list[Policy] = field(default_factory=list)

    @property
    def statements(self) -> list[dict[str, Any]]:
        return [s for policy in self.policies for s in policy.document["Statement"]]


_DOCUMENT_JSON = re.compile(r"^\$\{data\.aws_iam_policy_document\.(\w+)\.json\}$")


def aws_ci_roles(terraform: Path, resource: str = "ci") -> dict[str, Role]:
    """The roles of `resource "aws_iam_role" "<resource>"` (one per for_each key) and the policy
    documents attached to each, by `aws_iam_role_policy_attachment` of an `aws_iam_policy`, or
    by `aws_iam_role_policy`, exactly as the Terraform in `terraform` (a root folder) wires them."""
    root = Module(terraform)
    found = root.instances("aws_iam_role", resource)
    instances = found if isinstance(found, dict) else {resource: found}
    roles = {key: Role(key, inst.attr("name"), inst.attr("arn")) for key, inst in instances.items()}
    by_name = {role.name: role for role in roles.values()}
    managed: dict[str, _Instance] = {}
    for name in root.resources.get("aws_iam_policy", {}):
        policy = root.instances("aws_iam_policy", name)
        if not isinstance(policy, _Instance):
            raise UnknownReference(f"aws_iam_policy.{name}: for_each policies are not evaluated")
        managed[policy.attr("arn")] = policy

    def attach(kind: str, type_: str, argument: str) -> None:
        for name in root.resources.get(type_, {}):
            found = root.instances(type_, name)
            for inst in found.values() if isinstance(found, dict) else [found]:
                role = by_name.get(inst.attr("role"))
                if role is None:
                    continue  # another role's policy (e.g. the serving role)
                if kind == "managed":
                    arn = inst.attr("policy_arn")
                    if arn not in managed:
                        raise UnknownReference(f"{type_}.{name}: policy {arn} is not an aws_iam_policy of this root")
                    policy_inst, policy_name = managed[arn], managed[arn].attr("name")
                    raw = policy_inst.body["policy"]
                else:
                    policy_name, raw = inst.attr("name"), inst.body[argument]
                match = _DOCUMENT_JSON.match(raw) if isinstance(raw, str) else None
                if not match:
                    raise UnknownReference(f"{type_}.{name}: policy {raw!r} is not an aws_iam_policy_document's json")
                document = policy_document(root, match.group(1))
                role.policies.append(Policy(policy_name, kind, match.group(1), document))

    attach("managed", "aws_iam_role_policy_attachment", "policy_arn")
    attach("inline", "aws_iam_role_policy", "policy")
    return roles


def bucket_keys(terraform: Path, module: str = "storage") -> dict[str, str]:
    """{bucket name: KMS key ARN} from the module's `aws_s3_bucket_server_side_encryption_configuration`."""
    root = Module(terraform)
    child = root.child(module)
    keys: dict[str, str] = {}
    for name in child.resources.get("aws_s3_bucket_server_side_encryption_configuration", {}):
        found = child.instances("aws_s3_bucket_server_side_encryption_configuration", name)
        for inst in found.values() if isinstance(found, dict) else [found]:
            bucket = inst.attr("bucket")
            rule = inst.body["rule"][0]["apply_server_side_encryption_by_default"][0]
            scope = {"each": inst.each} if inst.each is not None else {}
            keys[bucket] = child.evaluate(rule["kms_master_key_id"], scope)
    return keys


# --------------------------------------------------------------------------------------------
# 2. HTTP forwarding and the MLflow gate

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "expect", "proxy-connection"}


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Proxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self) -> None:
        body = self._read_body()
        reply = self.server.inspect(self.command, self.path, self.headers)
        if reply is None:
            status, reason, headers, data = self._forward(body)
            self.server.observe(self.command, self.path, self.headers, status)
        else:
            status, reason = reply.status, "Forbidden" if reply.status == 403 else "Error"
            headers, data = [("Content-Type", reply.content_type)], reply.body
        self.send_response(status, reason)
        length = str(len(data))
        for key, value in headers:
            if key.lower() in HOP_BY_HOP:
                continue
            if key.lower() == "content-length":
                length = value if self.command == "HEAD" else length
                continue
            self.send_header(key, value)
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection(self.server.upstream_host, self.server.upstream_port, timeout=300)
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            return answer.status, answer.reason, answer.getheaders(), data
        finally:
            connection.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _Proxy(ThreadingHTTPServer):
    """Forwards every request to `upstream`; `inspect` may answer instead, `observe` sees results."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        parts = urllib.parse.urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, name=f"proxy-{self.url}", daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def inspect(self, method: str, path: str, headers: Any) -> Reply | None:
        return None

    def observe(self, method: str, path: str, headers: Any, status: int) -> None:
        pass


@dataclass(frozen=True)
class Route:
    service: str  # "mlflow" (tracking and registry RPCs) or "artifacts" (the server's artifact proxy)
    rpc: str
    method: str
    pattern: re.Pattern[str]
    literal: int  # literal path characters: the more specific route wins


# The route table, as mlflow/server/handlers.py builds it (get_service_endpoints, _get_paths):
# each RPC's endpoints from the `databricks_pb2.rpc` option, under /api/<major>.0 and /ajax-api/<major>.0.
ROUTES_SCRIPT = """
import json
from mlflow.protos import databricks_pb2
from mlflow.protos.mlflow_artifacts_pb2 import MlflowArtifactsService
from mlflow.protos.model_registry_pb2 import ModelRegistryService
from mlflow.protos.service_pb2 import MlflowService
rows = []
for kind, service in (("mlflow", MlflowService), ("mlflow", ModelRegistryService), ("artifacts", MlflowArtifactsService)):
    for method in service.DESCRIPTOR.methods:
        for endpoint in method.GetOptions().Extensions[databricks_pb2.rpc].endpoints:
            rows.append([kind, method.name, endpoint.method, endpoint.path, endpoint.since.major])
print(json.dumps(rows))
"""


@cache
def mlflow_routes(python: str) -> tuple[Route, ...]:
    """The REST routes of the MLflow in the environment of `python` (run once per session)."""
    done = subprocess.run(
        [python, "-I", "-c", ROUTES_SCRIPT], capture_output=True, text=True, env={**QUIET_ENV}, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"reading MLflow's service descriptors failed:\n{done.stderr[-3000:]}")
    routes = []
    for kind, rpc, method, path, major in json.loads(done.stdout):
        regex, literal = "", 0
        for part in re.split(r"(\{[\w.]+\}|<path:\w+>|<\w+>)", path):
            if part.startswith("<path:"):
                regex += ".+"
            elif part.startswith(("{", "<")):
                regex += "[^/]+"
            else:
                regex += re.escape(part)
                literal += len(part)
        for prefix in ("/api", "/ajax-api"):
            routes.append(Route(kind, rpc, method, re.compile(f"{prefix}/{major}\\.0{regex}"), literal))
    return tuple(sorted(routes, key=lambda r: -r.literal))


def match_route(routes: Iterable[Route], method: str, path: str) -> Route | None:
    bare = urllib.parse.urlsplit(path).path
    return next((r for r in routes if r.method == method and r.pattern.fullmatch(bare)), None)


# Actions defined by Amazon SageMaker with MLflow (service prefix `sagemaker-mlflow`), from the AWS
# Service Authorization Reference (list_amazonsagemakerwithmlflow.html). An MLflow RPC outside this
# list has no IAM action: SageMaker's MLflow does not authorise it.
SAGEMAKER_MLFLOW_ACTIONS = frozenset(
    """AccessUI CreateExperiment CreateModelVersion CreateRegisteredModel CreateRun DeleteExperiment
    DeleteLoggedModel DeleteLoggedModelTag DeleteModelVersion DeleteModelVersionTag DeleteRegisteredModel
    DeleteRegisteredModelAlias DeleteRegisteredModelTag DeleteRun DeleteTag DeleteTraceTag DeleteTraces EndTrace
    FinalizeLoggedModel GetDownloadURIForModelVersionArtifacts GetExperiment GetExperimentByName
    GetLatestModelVersions GetLoggedModel GetMetricHistory GetModelVersion GetModelVersionByAlias
    GetRegisteredModel GetRun GetTraceInfo ListArtifacts ListLoggedModelArtifacts LogBatch LogInputs
    LogLoggedModelParams LogMetric LogModel LogOutputs LogParam RenameRegisteredModel RestoreExperiment
    RestoreRun SearchExperiments SearchLoggedModels SearchModelVersions SearchRegisteredModels SearchRuns
    SearchTraces SetExperimentTag SetLoggedModelTags SetModelVersionTag SetRegisteredModelAlias
    SetRegisteredModelTag SetTag SetTraceTag StartTrace TransitionModelVersionStage UpdateExperiment
    UpdateModelVersion UpdateRegisteredModel UpdateRun""".split()  # noqa: SIM905 - the reference's table, as text
)
# Where AWS's action name is not the RPC's name.
SAGEMAKER_RENAMES = {
    "GetLatestVersions": "GetLatestModelVersions",
    "GetModelVersionDownloadUri": "GetDownloadURIForModelVersionArtifacts",
    # MLflow 3's log_model starts with CreateLoggedModel, which has no action of its own in the
    # reference (its logged-model actions are Finalize/Get/Delete/Search/SetTags/DeleteTag/
    # ListArtifacts/LogParams); AWS's own sample policy for MLflow 3 log_model on SageMaker grants
    # LogModel for it. An assumption until checked against a live tracking server: docs/permissions.md.
    "CreateLoggedModel": "LogModel",
}


def sagemaker_action(rpc: str) -> str:
    """`sagemaker-mlflow:<RpcName>`: AWS names mirror MLflow's RPC names (V3 variants share one)."""
    name = re.sub(r"V3$", "", rpc[:1].upper() + rpc[1:])
    return f"sagemaker-mlflow:{SAGEMAKER_RENAMES.get(name, name)}"


def documented_sagemaker_action(action: str) -> bool:
    return action.removeprefix("sagemaker-mlflow:") in SAGEMAKER_MLFLOW_ACTIONS


# Routes that are not RPCs but that a step calls here only because the tracking URI is an http://
# server: with the SageMaker ARN as tracking URI they are never called.
PROBES = {"/health": "reachability probe of an http:// tracking URI (mlops_gitops.registry.preflight)"}


class MlflowGate(_Proxy):
    """The tracking server as one identity sees it: each RPC authorised by `decide(action)`."""

    def __init__(
        self,
        upstream: str,
        identity: str,
        routes: tuple[Route, ...],
        ledger: Ledger,
        decide: Callable[[str], Decision],
        resource: str,
        namer: Callable[[str], str] = sagemaker_action,
    ) -> None:
        super().__init__(upstream)
        self.identity, self.routes, self.ledger = identity, routes, ledger
        self.decide, self.resource, self.namer = decide, resource, namer

    def inspect(self, method: str, path: str, headers: Any) -> Reply | None:
        route = match_route(self.routes, method, path)
        step = self.ledger.step
        if route is None:
            bare = urllib.parse.urlsplit(path).path
            note = PROBES.get(bare, "no MLflow RPC")
            self.ledger.record(
                Call(self.identity, step, f"unmapped:{method} {bare}", self.resource, None, "gate", note=note)
            )
            return None
        if route.service == "artifacts":
            action = f"mlflow-artifacts:{route.rpc}"
            note = "SageMaker's MLflow has no artifact proxy: clients write to S3"
            self.ledger.record(Call(self.identity, step, action, self.resource, False, "gate", note=note))
            return self._refuse(action, note)
        action = self.namer(route.rpc)
        decision = self.decide(action)
        note = "" if documented_sagemaker_action(action) else "not a documented sagemaker-mlflow action"
        if not note and action.split(":")[-1].lower() != re.sub(r"V3$", "", route.rpc).lower():
            note = f"RPC {route.rpc}"
        self.ledger.record(
            Call(
                self.identity, step, action, self.resource, decision.allowed, "gate", decision.by, note or decision.note
            )
        )
        return None if decision.allowed else self._refuse(action)

    def _refuse(self, action: str, why: str = "") -> Reply:
        message = f"{self.identity} may not {action}" + (f" ({why})" if why else "")
        return Reply(403, json.dumps({"error_code": "PERMISSION_DENIED", "message": message}).encode())


# --------------------------------------------------------------------------------------------
# 3b. AWS: moto with the rendered roles, and a recorder of S3 calls


def s3_action(method: str, path: str) -> tuple[str, str]:
    """(IAM action, resource ARN) of a path-style S3 request, as AWS authorises it."""
    parts = urllib.parse.urlsplit(path)
    bucket, _, key = parts.path.lstrip("/").partition("/")
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    if not key:
        arn = f"arn:aws:s3:::{bucket}"
        if method in ("GET", "HEAD"):
            for sub, action in (
                ("location", "GetBucketLocation"),
                ("uploads", "ListBucketMultipartUploads"),
                ("versions", "ListBucketVersions"),
                ("policy", "GetBucketPolicy"),
                ("versioning", "GetBucketVersioning"),
                ("encryption", "GetEncryptionConfiguration"),
            ):
                if sub in query:
                    return f"s3:{action}", arn
            return "s3:ListBucket", arn  # ListObjects(V2), and HeadBucket (AWS checks s3:ListBucket)
        if method == "POST" and "delete" in query:
            return "s3:DeleteObject", f"{arn}/*"  # DeleteObjects: s3:DeleteObject per key
        return f"s3:{method}Bucket?", arn
    arn = f"arn:aws:s3:::{bucket}/{urllib.parse.unquote(key)}"
    if method in ("GET", "HEAD"):
        if "uploadId" in query:
            return "s3:ListMultipartUploadParts", arn
        if "tagging" in query:
            return "s3:GetObjectTagging", arn
        return ("s3:GetObjectVersion" if "versionId" in query else "s3:GetObject"), arn
    if method in ("PUT", "POST"):
        if "tagging" in query:
            return "s3:PutObjectTagging", arn
        return "s3:PutObject", arn  # also CreateMultipartUpload, UploadPart, CompleteMultipartUpload
    if method == "DELETE":
        return ("s3:AbortMultipartUpload" if "uploadId" in query else "s3:DeleteObject"), arn
    return f"s3:{method}?", arn


_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


class S3Recorder(_Proxy):
    """In front of moto: names each S3 call, by the access key of its signature, per identity;
    moto decides. Each call is also decided against the rendered statements (`static`), and the
    KMS call AWS would make for an object read or write is added, decided statically."""

    def __init__(self, upstream: str, ledger: Ledger, bucket_keys: dict[str, str]) -> None:
        super().__init__(upstream)
        self.ledger, self.bucket_keys = ledger, bucket_keys
        self.identities: dict[str, str] = {}  # access key id -> identity
        self.statements: dict[str, list[dict[str, Any]]] = {}

    def add(self, identity: str, access_key_id: str, statements: list[dict[str, Any]]) -> None:
        self.identities[access_key_id] = identity
        self.statements[identity] = statements

    def observe(self, method: str, path: str, headers: Any, status: int) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        found = _CREDENTIAL.search(headers.get("Authorization", "")) or _CREDENTIAL.search(
            "Credential=" + query.get("X-Amz-Credential", [""])[0]
        )
        identity = self.identities.get(found.group(1) if found else "")
        if identity is None:
            return  # the harness's own admin calls
        action, resource = s3_action(method, path)
        allowed = status != 403
        static = decide(self.statements[identity], action, resource)
        note = "" if static.allowed == allowed else f"moto says {allowed}, the statements say {static.allowed}"
        step = self.ledger.step
        self.ledger.record(Call(identity, step, action, resource, allowed, "moto", static.by, note))
        bucket = resource.removeprefix("arn:aws:s3:::").split("/")[0]
        kms = {"s3:PutObject": "kms:GenerateDataKey", "s3:GetObject": "kms:Decrypt"}.get(action)
        if allowed and kms and status < 300 and bucket in self.bucket_keys and method != "HEAD":
            key = self.bucket_keys[bucket]
            verdict = decide(self.statements[identity], kms, key)
            self.ledger.record(Call(identity, step, kms, key, verdict.allowed, "static", verdict.by, "SSE-KMS"))


class IamMoto(S3Emulator):
    """moto's server, IAM enforcement on once `enforce()` is called: an admin user (all actions)
    sets up buckets and roles first; the roles are then assumed with `sts:AssumeRole`."""

    def __init__(self, root: Path, region: str) -> None:
        super().__init__(root, auth=False)
        self.region = region
        self.key_id, self.secret, self.admin_arn = self.add_user("harness-admin", "*")
        self.policies: dict[str, tuple[str, str]] = {}  # managed policy name -> (ARN, document)

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})

    def install(self, role: Role, suffix: str = "") -> str:
        """The role as the Terraform creates it (policies without conditions: see the module
        docstring), trusted by the admin user in place of GitHub's OIDC provider. Returns its ARN."""
        iam = self.client("iam")
        # Stand-in for the OIDC trust (sts:AssumeRoleWithWebIdentity from GitHub): moto cannot mint
        # GitHub's tokens, so the harness's admin user may assume the role.
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": self.admin_arn}, "Action": "sts:AssumeRole"}],
        }
        name = f"{role.name}{suffix}"
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=3600)[
            "Role"
        ]["Arn"]
        for policy in role.policies:
            document = json.dumps({**policy.document, "Statement": unconditional(policy.document["Statement"])})
            if policy.kind == "managed":  # one policy, attached to every role that names it
                policy_name = f"{policy.name}{suffix}"
                if policy_name not in self.policies:
                    created = iam.create_policy(PolicyName=policy_name, PolicyDocument=document)
                    self.policies[policy_name] = (created["Policy"]["Arn"], document)
                policy_arn, installed = self.policies[policy_name]
                assert installed == document, f"two documents for the managed policy {policy_name}"
                iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
            else:
                iam.put_role_policy(RoleName=name, PolicyName=policy.name, PolicyDocument=document)
        return str(arn)

    def assume(self, role_arn: str, session: str) -> dict[str, str]:
        found = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session, DurationSeconds=3600)
        credentials = found["Credentials"]
        return {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        }


# --------------------------------------------------------------------------------------------
# 3c. AWS: a rendered project's CI identities, wired together


def drop_action(text: str, sid: str, action: str) -> str:
    """`text` (a .tf file) without `action` in the `actions` of the statement whose sid is `sid`;
    raises if there is no such statement or action, so that a test never edits nothing."""
    start = re.search(rf'statement\s*\{{\s*(#[^\n]*\n\s*)*sid\s*=\s*"{re.escape(sid)}"', text)
    if not start:
        raise ValueError(f'no statement with sid = "{sid}"')
    end = text.index("\n  }", start.end())
    block = text[start.start() : end]
    edited = re.sub(rf'\s*"{re.escape(action)}",?', "", block, count=1)
    if edited == block:
        raise ValueError(f"statement {sid} has no action {action}")
    if re.search(r"actions\s*=\s*\[\s*\]", edited):  # its only action: the statement goes
        return text[: start.start()] + text[end + len("\n  }") :]
    return text[: start.start()] + edited + text[end:]


@dataclass
class Identity:
    name: str
    role: Role
    credentials: dict[str, str]
    gate: MlflowGate


class AwsCiHarness:
    """A rendered AWS project's CI identities in moto and behind the MLflow gate.

    `run(identity, *targets)` runs `make <targets>` in the project as that identity: the assumed
    role's credentials, the DVC remote `cloud` pointed at moto (through the S3 recorder) by a DVC
    global config that adds only the endpoint, the tracking URI the identity's gate, and the
    repository variables the workflows read (`MLFLOW_ARTIFACT_LOCATION`, what terraform/github
    writes, evaluated against terraform/aws's outputs)."""

    def __init__(self, project: Path, root: Path, venv: Path, mlflow_url: str) -> None:
        self.project, self.root, self.venv = project, root, venv
        root.mkdir(parents=True, exist_ok=True)
        self.terraform = project / "terraform" / "aws"
        self.ledger = Ledger()
        aws = Module(self.terraform)
        github = Module(project / "terraform" / "github", remote_states={"project": aws})
        self.variables = github.local("repository_variables")
        self.region = self.variables["AWS_REGION"]
        self.mlflow_arn = aws.output("mlflow_tracking_uri")
        self.buckets = {"data": self.variables["DVC_BUCKET"], "artifacts": self.variables["ARTIFACT_BUCKET"]}
        self.roles = aws_ci_roles(self.terraform)
        self.identities: dict[str, Identity] = {}
        self.recorder: S3Recorder | None = None
        self.moto = IamMoto(root, self.region)
        try:
            self._start(venv, mlflow_url)
        except BaseException:
            self.stop()
            raise

    def _start(self, venv: Path, mlflow_url: str) -> None:
        from helpers.project import project_command_env
        from helpers.storage import CLOUD_ENV_PREFIXES, GUARD_ENV

        root = self.root
        for bucket in self.buckets.values():
            self.moto.create_bucket(bucket)
        self.moto.enforce()
        self.recorder = recorder = S3Recorder(self.moto.endpoint, self.ledger, bucket_keys(self.terraform)).start()
        self.routes = mlflow_routes(str(venv / "bin" / "python"))
        self.mlflow_url = mlflow_url
        self.dvc_config = root / "dvc-global"
        self.dvc_config.mkdir(exist_ok=True)
        (self.dvc_config / "config").write_text(f"['remote \"cloud\"']\n    endpointurl = {recorder.url}\n")
        base = {k: v for k, v in project_command_env(venv).items() if not k.startswith(CLOUD_ENV_PREFIXES)}
        base.update(GUARD_ENV)
        base.update(
            AWS_DEFAULT_REGION=self.region,
            AWS_REGION=self.region,
            DVC_GLOBAL_CONFIG_DIR=str(self.dvc_config),
            MLFLOW_S3_ENDPOINT_URL=recorder.url,
            MLFLOW_ARTIFACT_LOCATION=self.variables["MLFLOW_ARTIFACT_LOCATION"],
        )
        self.base_env = base
        for key, role in self.roles.items():
            self.add(key, role)

    def add(self, name: str, role: Role, suffix: str = "") -> Identity:
        arn = self.moto.install(role, suffix)
        credentials = self.moto.assume(arn, name)
        statements = role.statements
        assert self.recorder is not None
        self.recorder.add(name, credentials["AWS_ACCESS_KEY_ID"], statements)
        gate = MlflowGate(
            self.mlflow_url,
            name,
            self.routes,
            self.ledger,
            lambda action: decide(statements, action, self.mlflow_arn),
            self.mlflow_arn,
        ).start()
        self.identities[name] = Identity(name, role, credentials, gate)
        return self.identities[name]

    def variant(self, name: str, of: str, edit: Callable[[str], str]) -> Identity:
        """Identity `name`: role `of` from a copy of the rendered terraform/aws whose ci_roles.tf
        went through `edit` (e.g. `drop_action`)."""
        import shutil

        copy = self.root / f"terraform-{name}"
        shutil.copytree(self.terraform, copy)
        path = copy / "ci_roles.tf"
        path.write_text(edit(path.read_text()))
        return self.add(name, aws_ci_roles(copy)[of], suffix=f"-{name}")

    def env(self, identity: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        chosen = self.identities[identity]
        return {**self.base_env, **chosen.credentials, "MLFLOW_TRACKING_URI": chosen.gate.url, **(extra or {})}

    def admin_env(self) -> dict[str, str]:
        """The platform engineer's own credentials (setup only: never a CI identity)."""
        return {**self.base_env, "AWS_ACCESS_KEY_ID": self.moto.key_id, "AWS_SECRET_ACCESS_KEY": self.moto.secret}

    def run(
        self, identity: str, *targets: str, extra: dict[str, str] | None = None, step: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`make <targets>` as `identity`; its calls are recorded under the step `make <targets>`
        (or `step`, to tell two runs of one target apart)."""
        self.ledger.step = step or f"make {' '.join(targets)}"
        try:
            return subprocess.run(
                ["make", "--no-print-directory", "-C", str(self.project), *targets],
                env=self.env(identity, extra),
                capture_output=True,
                text=True,
                timeout=900,
            )
        finally:
            self.ledger.step = "between steps"

    def stop(self) -> None:
        for identity in self.identities.values():
            identity.gate.stop()
        if self.recorder is not None:
            self.recorder.stop()
        self.moto.stop()
