"""`mlops-gitops deploy config|rollout|rollback` on SQLite registries with real (tiny) models.

The apply command is a small script this test writes (it records the step and the configuration
it was given); the scoring server is the stand-in of test_deploy.py, right or wrong on purpose.
The template's tests/test_serving.py runs the same journey against MLflow's real scoring server.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
import test_deploy
import yaml
from test_deploy import free_port, log_version, right, write_test_split

from mlops_gitops import deploy, lineage

scoring = test_deploy.scoring  # the stand-in scoring servers' fixture, shared
CONFIG = "terraform/gcp/serving/release.auto.tfvars.json"
APPLY = """#!/bin/sh
printf '%s %s\\n' "$SERVING_STEP" "$(tr -d ' \\n' < "$SERVING_CONFIG")" >> applied.log
code=$(cat "apply-exit-$SERVING_STEP" apply-exit 2>/dev/null | head -1)
exit "${code:-0}"
"""


@pytest.fixture
def site(registry: Any, monkeypatch: pytest.MonkeyPatch, scoring: Any) -> Any:
    """A GCP project (terraform/gcp/serving) with a fake apply, a right scoring server and v1, v2."""
    root = registry.cfg.root
    (root / "terraform/gcp/serving").mkdir(parents=True)
    (root / "terraform/gcp/serving/answers.tf").write_text('locals {\n  answers = {\n    project = "acme"\n  }\n}\n')
    script = root / "apply.sh"
    script.write_text(APPLY)
    script.chmod(0o755)
    monkeypatch.setenv("SERVING_APPLY_COMMAND", str(script))
    monkeypatch.setenv("SERVING_ALLOW_UNPUSHED", "1")
    for name in ("GITHUB_ACTIONS", "ACT", "SMOKE_TOKEN", "IMAGE_DIR", "SERVING_URL_COMMAND"):
        monkeypatch.delenv(name, raising=False)
    write_test_split(root)
    registry.v1 = log_version(registry, commit="1111111aaaa")
    registry.v2 = log_version(registry, commit="2222222bbbb")
    registry.good, registry.seen = scoring(right)
    registry.bad, _ = scoring(lambda body: (200, {"predictions": [0]}))  # one prediction, whatever the rows
    monkeypatch.setenv("SMOKE_URL", registry.good)
    registry.monkeypatch = monkeypatch
    return registry


def deploy_cli(site: Any, *argv: str) -> tuple[int, str, str]:
    site.capsys.readouterr()
    code = deploy.main(list(argv))
    out, err = site.capsys.readouterr()
    return code, out, err


def applied(site: Any) -> list[tuple[str, Any]]:
    log = site.cfg.root / "applied.log"
    lines = log.read_text().splitlines() if log.is_file() else []
    return [(line.split(" ", 1)[0], json.loads(line.split(" ", 1)[1])["release"]) for line in lines]


def shares(release: Any) -> list[tuple[str, int]] | None:
    return None if release is None else [(t["version"], t["percent"]) for t in release["traffic"]]


def deploy_tags(site: Any, version: str, env: str = "staging") -> dict[str, str]:
    tags = site.client.get_model_version(site.model, version).tags
    return {k.removeprefix(f"deploy.{env}."): v for k, v in tags.items() if k.startswith(f"deploy.{env}.")}


def roll(site: Any, staging: str | None, *extra: str) -> tuple[int, str, str]:
    site.desire(staging=staging)
    return deploy_cli(site, "rollout", "--env", "staging", *extra)


def test_config_writes_the_contract_file_for_the_projects_cloud(site: Any) -> None:
    site.desire(staging=site.v1)
    code, out, err = deploy_cli(site, "config", "--env", "staging", "--step", "canary")
    assert code == 0, err
    text = (site.cfg.root / CONFIG).read_text()
    assert text.endswith("}\n") and text.startswith('{\n  "release": {\n    "canary_percent": 10,')
    release = json.loads(text)["release"]
    assert release == {
        "environment": "staging", "model": site.model, "version": site.v1, "image_tag": f"v{site.v1}-1111111",
        "step": "full", "canary_percent": 10,  # first version: no canary
        "traffic": [{"version": site.v1, "image_tag": f"v{site.v1}-1111111", "percent": 100}],
    }  # fmt: skip
    assert out.strip() == f"serving-config: {CONFIG}: staging v{site.v1} step full (v{site.v1} 100%)"
    site.desire(staging=None)
    assert deploy_cli(site, "config", "--env", "staging", "--step", "full", "--out", "x.json")[0] == 0
    assert json.loads((site.cfg.root / "x.json").read_text()) == {"release": None}


def test_a_good_version_rolls_out_through_canary_and_full_and_a_rerun_does_nothing(site: Any) -> None:
    code, out, err = roll(site, site.v1)
    assert code == 0, err
    assert [(step, shares(r)) for step, r in applied(site)] == [("full", [(site.v1, 100)])]
    assert out.strip().splitlines()[-1].startswith(f"deploy: v{site.v1} serves staging (full; smoke passed;")
    assert "smoke: latency: slowest of 2 answers" in out  # example rows and extremes (nothing optional)
    tags = deploy_tags(site, site.v1)
    assert tags["state"] == "live" and tags["smoke"] == "passed" and tags["run_url"] == "local"
    assert tags["endpoint"] == f"acme-staging-v{site.v1}-1111111" and "(not pushed)" in tags["image"]
    code, out, _ = roll(site, site.v1)
    assert code == 0 and out.strip().endswith("nothing to do") and len(applied(site)) == 1

    code, out, err = roll(site, site.v2)
    assert code == 0, err
    steps = [(step, shares(r)) for step, r in applied(site)[1:]]
    assert steps == [("canary", [(site.v2, 10), (site.v1, 90)]), ("full", [(site.v2, 100), (site.v1, 0)])]
    assert deploy_tags(site, site.v2)["state"] == "live" and deploy_tags(site, site.v1)["state"] == "retired"
    site.capsys.readouterr()
    assert lineage.main([site.v2]) == 0
    assert re.search(r"\n  deployed staging +live, smoke passed 20", site.capsys.readouterr().out)

    code, out, err = deploy_cli(site, "rollback", "--env", "staging")  # break glass (GCP: rollback step, applied)
    assert code == 0, err
    assert applied(site)[-1][0] == "rollback" and shares(applied(site)[-1][1]) == [(site.v2, 0), (site.v1, 100)]
    assert deploy_tags(site, site.v1)["state"] == "live" and deploy_tags(site, site.v2)["state"] == "rolled-back"
    assert out.strip().startswith(f"rollback: v{site.v1} serves staging again instead of v{site.v2}")


def test_a_failed_smoke_rolls_back_to_the_live_version_in_one_line(site: Any) -> None:
    assert roll(site, site.v1)[0] == 0
    site.monkeypatch.setenv("SMOKE_URL", site.bad)
    code, _, err = roll(site, site.v2)
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line == (
        f"rollout: v{site.v2} failed the smoke check 'answer' at step canary ({site.bad}/invocations "
        f"(models:/{site.model}/{site.v2}) answered 1 predictions for 12 rows: one per row expected): "
        f"rolled back, v{site.v1} serves staging"
    )
    assert [(s, shares(r)) for s, r in applied(site)[1:]] == [
        ("canary", [(site.v2, 10), (site.v1, 90)]),
        ("rollback", [(site.v2, 0), (site.v1, 100)]),
    ]
    assert json.loads((site.cfg.root / CONFIG).read_text())["release"]["step"] == "rollback"
    tags = deploy_tags(site, site.v2)
    assert tags["smoke"] == "failed" and tags["state"] == "rolled-back" and tags["smoke_at"]
    assert deploy_tags(site, site.v1)["state"] == "live"


# --- bad input: one line, exit 1, serving left on a smoke-tested version -------------------------------


def refused(site: Any, *argv: str, applies: int = 0) -> str:
    """Run, expect exit 1 and one line on stderr, no more applies than `applies`, v1 still live."""
    before = len(applied(site))
    code, _, err = deploy_cli(site, *argv)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert len(applied(site)) - before == applies
    assert deploy_tags(site, site.v1).get("state") == "live"
    with site.capsys.disabled():  # the line, for `pytest -s`
        print(f"\n{lines[0]}")
    return lines[0]


@pytest.fixture
def live(site: Any) -> Any:
    """v1 serves staging, smoke-tested."""
    assert roll(site, site.v1)[0] == 0
    return site


def test_bad_input_a_desired_version_that_does_not_exist(live: Any) -> None:
    live.desire(staging="9")
    snapshot = live.snapshot()
    line = refused(live, "rollout", "--env", "staging")
    assert line.startswith(f"rollout: version 9 of '{live.model}' does not exist in sqlite:///")
    assert live.snapshot() == snapshot


def test_bad_input_a_version_without_signature_or_input_example(live: Any) -> None:
    bare = log_version(live, signature=False)
    live.desire(staging=bare)
    snapshot = live.snapshot()
    line = refused(live, "rollout", "--env", "staging")
    assert line.startswith(f"rollout: models:/{live.model}/{bare} has neither an input example nor a signature")
    assert live.snapshot() == snapshot


def test_bad_input_a_smoke_url_that_does_not_answer(live: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    live.monkeypatch.setenv("SMOKE_URL", url)
    live.desire(staging=live.v2)
    line = refused(live, "rollout", "--env", "staging", applies=2)  # canary, then the rollback
    assert line == (
        f"rollout: v{live.v2} failed the smoke check 'reach' at step canary (nothing answers at {url}: start the "
        f"server first (make serve), or set SMOKE_URL): rolled back, v{live.v1} serves staging"
    )


def test_bad_input_an_image_that_was_not_pushed(live: Any) -> None:
    live.monkeypatch.delenv("SERVING_ALLOW_UNPUSHED")
    live.desire(staging=live.v2)
    snapshot = live.snapshot()
    line = refused(live, "rollout", "--env", "staging")
    assert line == (
        f"rollout: the image for v{live.v2} was not pushed (build/serving-image/pushed.json is missing): run "
        "`make serving-image-push` first, or locally SERVING_ALLOW_UNPUSHED=1; nothing applied"
    )
    assert live.snapshot() == snapshot
    pushed = live.cfg.root / "build/serving-image/pushed.json"
    pushed.parent.mkdir(parents=True)
    pushed.write_text(json.dumps({"image": "r/model:v1-1111111", "digest": "sha256:" + "a" * 64}))
    assert "holds r/model:v1-1111111, not the tag" in refused(live, "rollout", "--env", "staging")
    live.monkeypatch.setenv("GITHUB_ACTIONS", "true")  # CI: the waiver does not count
    live.monkeypatch.setenv("SERVING_ALLOW_UNPUSHED", "1")
    assert refused(live, "rollout", "--env", "staging").endswith("run `make serving-image-push` first; nothing applied")
    live.monkeypatch.delenv("GITHUB_ACTIONS")
    live.monkeypatch.delenv("SERVING_ALLOW_UNPUSHED")
    pushed.write_text(json.dumps({"image": f"r/model:v{live.v2}-2222222", "digest": "sha256:" + "b" * 64}))
    code, _, err = deploy_cli(live, "rollout", "--env", "staging")
    assert code == 0, err
    assert deploy_tags(live, live.v2)["image"] == f"r/model:v{live.v2}-2222222@sha256:{'b' * 64}"


def test_bad_input_a_rollout_interrupted_half_way_is_rolled_back_by_the_next_run(live: Any) -> None:
    live.client.set_model_version_tag(live.model, live.v2, "deploy.staging.state", "canary")  # a run cut short
    live.desire(staging=live.v2)
    line = refused(live, "rollout", "--env", "staging", applies=1)
    assert line == (
        f"rollout: v{live.v2} was left at canary in staging by an interrupted rollout (deploy.staging.state=canary): "
        f"rolled back, v{live.v1} serves staging; run `make deploy SERVING_ENV=staging` again to roll v{live.v2} "
        "out from the start"
    )
    assert shares(applied(live)[-1][1]) == [(live.v2, 0), (live.v1, 100)]
    assert deploy_tags(live, live.v2)["state"] == "rolled-back"
    code, _, err = deploy_cli(live, "rollout", "--env", "staging")  # the next run deploys from the start
    assert code == 0, err
    assert deploy_tags(live, live.v2)["state"] == "live"


def test_bad_input_production_before_the_staging_smoke_passed(live: Any) -> None:
    live.desire(staging=live.v1, production=live.v2)
    snapshot = live.snapshot()
    line = refused(live, "rollout", "--env", "production")
    assert line == (
        f"rollout: production refuses v{live.v2}: its staging smoke test is missing (deploy.staging.smoke), "
        "not passed: deploy it to staging first (make deploy SERVING_ENV=staging); nothing applied"
    )
    assert live.snapshot() == snapshot
    live.desire(staging=live.v1, production=live.v1)  # v1 passed staging: production takes it
    code, _, err = deploy_cli(live, "rollout", "--env", "production")
    assert code == 0, err
    assert deploy_tags(live, live.v1, "production")["state"] == "live"


def test_bad_input_unknown_environment_cloud_and_step(live: Any) -> None:
    assert refused(live, "rollout", "--env", "dev") == (
        "rollout: unknown environment 'dev': use production or staging (deploy/models.yaml)"
    )
    assert refused(live, "config", "--env", "staging", "--step", "blue") == (
        "serving-config: unknown step 'blue': use canary, full, rollback"
    )
    assert refused(live, "config", "--env", "staging", "--step", "full", "--cloud", "ibm") == (
        "serving-config: unknown cloud 'ibm': use aws, gcp, azure"
    )
    (live.cfg.root / "terraform/aws/serving").mkdir(parents=True)
    assert refused(live, "rollout", "--env", "staging").startswith("rollout: several clouds (aws, gcp) in ")


@pytest.mark.parametrize("percent", [0, 100])
def test_bad_input_a_canary_percent_of_0_or_100(live: Any, percent: int) -> None:
    params = yaml.safe_load((live.cfg.root / "params.yaml").read_text())
    params["deploy"] = {"canary_percent": percent}
    (live.cfg.root / "params.yaml").write_text(yaml.safe_dump(params))
    live.desire(staging=live.v2)
    assert refused(live, "rollout", "--env", "staging") == (
        f"rollout: params.yaml deploy.canary_percent must be a whole number from 1 to 99, not {percent}: 0 would "
        "send the new version nothing to test, 100 would skip the canary (set 10)"
    )


def test_bad_input_an_apply_that_fails_restores_the_last_good_config(live: Any) -> None:
    live.desire(staging=live.v2)
    (live.cfg.root / "apply-exit").write_text("3")
    before = deploy_tags(live, live.v2)
    line = refused(live, "rollout", "--env", "staging", applies=2)  # the canary, then the restore
    assert line == (
        f"rollout: `{os.environ['SERVING_APPLY_COMMAND']}` failed (exit 3) at step canary of v{live.v2}: the config "
        f"of the last good step (v{live.v1} step full (v{live.v1} 100%)) restored; re-applying it failed too "
        f"(exit 3); v{live.v1} serves staging; registry untouched"
    )
    assert json.loads((live.cfg.root / CONFIG).read_text())["release"]["version"] == live.v1
    assert deploy_tags(live, live.v2) == before


# --- smoke: edge rows, latency, token ---------------------------------------------------------------


def test_smoke_sends_null_for_optional_columns_checks_latency_and_hides_the_token(site: Any, scoring: Any) -> None:
    path = site.cfg.path(deploy.TEST_SPLIT)
    version = log_version(site, commit="3333333cccc", optional="mean texture")
    url, seen = scoring(right)
    site.monkeypatch.setenv("SMOKE_TOKEN", "s3cr3t-token")
    site.capsys.readouterr()
    assert deploy.main(["smoke", "--url", url, "--version", version]) == 0
    out = site.capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == 4 and "s3cr3t" not in out, out
    assert lines[1] == "smoke: missing values: 1/1 rows answered (optional mean texture null)"
    assert lines[2] == f"smoke: extremes: 2/2 rows answered (min and max of {deploy.TEST_SPLIT})"
    assert seen[1]["dataframe_split"]["data"][0][1] is None
    assert seen[2]["dataframe_split"]["data"] == [[10.0, 17.25, "blue"], [15.5, 20.0, "red"]]
    params = yaml.safe_load(path.parents[2].joinpath("params.yaml").read_text())
    params["deploy"] = {"smoke_latency_ms": 0.0001}
    path.parents[2].joinpath("params.yaml").write_text(yaml.safe_dump(params))
    assert deploy.main(["smoke", "--url", url, "--version", version]) == 1
    err = site.capsys.readouterr().err.strip()
    assert err.startswith(f"smoke: {url} took ") and "more than params.yaml deploy.smoke_latency_ms (0 ms)" in err


def test_smoke_sends_the_token_as_a_bearer_and_never_prints_it(site: Any, scoring: Any) -> None:
    site.monkeypatch.setenv("SMOKE_TOKEN", "s3cr3t-token")
    url, seen = scoring(lambda body: (401, "bad token s3cr3t-token"))
    site.capsys.readouterr()
    assert deploy.main(["smoke", "--url", url, "--version", site.v1]) == 1
    err = site.capsys.readouterr().err
    assert "s3cr3t" not in err and "answered HTTP 401: bad token ***" in err
    assert seen[0]["authorization"] == "Bearer s3cr3t-token"


def test_an_apply_failing_after_a_passed_canary_keeps_the_canary_for_the_next_run_to_roll_back(live: Any) -> None:
    live.desire(staging=live.v2)
    (live.cfg.root / "apply-exit-full").write_text("4")
    line = refused(live, "rollout", "--env", "staging", applies=3)  # canary, full, the restore of the canary
    assert line.endswith(f"v{live.v2} keeps its smoke-tested canary share (deploy.staging.state=canary)"), line
    assert shares(applied(live)[-1][1]) == [(live.v2, 10), (live.v1, 90)]
    assert deploy_tags(live, live.v2)["state"] == "canary"
    (live.cfg.root / "apply-exit-full").unlink()
    assert "was left at canary in staging by an interrupted rollout" in refused(
        live, "rollout", "--env", "staging", applies=1
    )


def test_break_glass_with_nothing_earlier_is_one_line_and_writes_nothing(live: Any) -> None:
    before = (live.cfg.root / CONFIG).read_text()
    assert refused(live, "rollback", "--env", "staging") == (
        f"rollback: v{live.v1} is the first version that served staging: there is no earlier smoke-tested version "
        "to roll back to (set staging to null in deploy/models.yaml to stop serving)"
    )
    assert (live.cfg.root / CONFIG).read_text() == before
