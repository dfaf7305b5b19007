"""Offline checks of the production Terraform in infra/terraform.

The kubernetes and helm providers cannot be downloaded here, so `terraform validate` cannot run. What can
run offline is checked instead: a small HCL scanner (strings, comments, bracket balance, top-level
blocks) asserts the structure and the policy rules (typed and documented variables, no literal secrets,
no internet egress); `terraform fmt -check` parses every file; and the variables plus every `locals`
block are planned in a provider-free copy (conftest.py), which runs the validation blocks. What that
plan renders is checked in test_rendered.py and test_checkov.py.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.infra.conftest import EXAMPLE_TFVARS, TERRAFORM, TF_DIR, plan, tf_env, tfvars_with

TF_FILES = sorted(TF_DIR.glob("*.tf"))
OPENERS = {"{": "}", "[": "]", "(": ")"}


# ---------------------------------------------------------------------------------------------------
# A minimal HCL scanner: enough to strip comments, check balance and cut top-level blocks.
# ---------------------------------------------------------------------------------------------------

def strip_comments(text: str, name: str = "<hcl>") -> str:
    """Text with comments blanked out (newlines kept); raises on unbalanced brackets or quotes.

    Tracks template interpolations (`${ ... }`) inside strings, so braces and quotes inside them are
    counted correctly. Heredocs are not supported: the configuration does not use them.
    """
    out: list[str] = []
    stack: list[str] = []  # open brackets, and "\"" for an open string, "${" for an interpolation
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        two = text[i:i + 2]
        in_string = bool(stack) and stack[-1] == '"'
        if c == "\n":
            line += 1
            if in_string:
                raise AssertionError(f"{name}:{line - 1}: unterminated string")
        if in_string:
            if c == "\\":
                out.append(text[i:i + 2])
                i += 2
                continue
            if two == "${":
                stack.append("${")
                out.append(two)
                i += 2
                continue
            if c == '"':
                stack.pop()
            out.append(c)
            i += 1
            continue
        if two == "<<":
            raise AssertionError(f"{name}:{line}: heredoc found; this checker does not support heredocs")
        if c == "#" or two == "//":
            end = text.find("\n", i)
            i = n if end == -1 else end
            continue
        if two == "/*":
            end = text.find("*/", i + 2)
            if end == -1:
                raise AssertionError(f"{name}:{line}: unterminated /* comment")
            out.append("\n" * text.count("\n", i, end))
            line += text.count("\n", i, end)
            i = end + 2
            continue
        if c == '"':
            stack.append('"')
        elif c in OPENERS:
            stack.append(c)
        elif c in ")]}":
            if not stack:
                raise AssertionError(f"{name}:{line}: unexpected {c!r}")
            top = stack.pop()
            expected = "}" if top == "${" else OPENERS.get(top)
            if c != expected:
                raise AssertionError(f"{name}:{line}: {c!r} closes {top!r}")
        out.append(c)
        i += 1
    if stack:
        raise AssertionError(f"{name}: unclosed {stack[-1]!r} at end of file")
    return "".join(out)


@dataclass(frozen=True)
class Block:
    kind: str
    labels: tuple[str, ...]
    body: str
    file: str


def top_level_blocks(text: str, name: str) -> list[Block]:
    """Top-level blocks (`resource "t" "n" { ... }`) of comment-free, balanced HCL."""
    blocks: list[Block] = []
    header = re.compile(r'^([a-z_]+)((?:\s+"[^"]*")*)\s*\{', re.M)
    pos = 0
    while (m := header.search(text, pos)) is not None:
        depth, j = 0, m.end() - 1
        in_string = False
        while True:
            c = text[j]
            if in_string:
                if c == "\\":
                    j += 1
                elif c == '"':
                    in_string = False
            elif c == '"':
                in_string = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        labels = tuple(re.findall(r'"([^"]*)"', m.group(2)))
        blocks.append(Block(m.group(1), labels, text[m.end():j], name))
        pos = j + 1
    return blocks


def depth0_attributes(body: str) -> set[str]:
    """Attribute names set at the top level of a block body (nested blocks and values skipped)."""
    names, depth = set(), 0
    for line in body.splitlines():
        if depth == 0 and (m := re.match(r"\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=(?!=)", line)):
            names.add(m.group(1))
        depth += sum(line.count(o) for o in "{[(") - sum(line.count(c) for c in "}])")
    return names


def nested_block_names(body: str) -> list[str]:
    return re.findall(r"^\s*([a-z_]+)\s*\{", body, re.M)


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    assert TF_FILES, f"no .tf files under {TF_DIR}"
    return {f.name: strip_comments(f.read_text(), f.name) for f in TF_FILES}


@pytest.fixture(scope="module")
def blocks(sources: dict[str, str]) -> list[Block]:
    return [b for name, text in sources.items() for b in top_level_blocks(text, name)]


def resources(blocks: list[Block]) -> dict[tuple[str, str], Block]:
    return {(b.labels[0], b.labels[1]): b for b in blocks if b.kind == "resource"}


def variables(blocks: list[Block]) -> dict[str, Block]:
    return {b.labels[0]: b for b in blocks if b.kind == "variable"}


# ---------------------------------------------------------------------------------------------------
# Structure and policy, from the scanner
# ---------------------------------------------------------------------------------------------------

def test_every_file_has_balanced_brackets_and_quotes(sources: dict[str, str]) -> None:
    # strip_comments raises on imbalance; the fixture already ran it for every file.
    assert set(sources) >= {"versions.tf", "variables.tf", "outputs.tf"}


def test_scanner_rejects_unbalanced_hcl() -> None:
    with pytest.raises(AssertionError, match="closes"):
        strip_comments('resource "a" "b" {\n  x = [1, 2\n}\n')
    with pytest.raises(AssertionError, match="unclosed"):
        strip_comments('locals {\n  x = 1\n')
    with pytest.raises(AssertionError, match="unterminated string"):
        strip_comments('x = "abc\n')
    assert "{" not in strip_comments('# { not code\nx = "${var.a}"  // }\n').replace("${", "")


def test_every_variable_has_a_description_and_a_type(blocks: list[Block]) -> None:
    found = variables(blocks)
    assert len(found) > 30
    missing = {name: {"description", "type"} - depth0_attributes(b.body) for name, b in found.items()}
    assert {name: m for name, m in missing.items() if m} == {}
    empty = [name for name, b in found.items() if re.search(r'^\s*description\s*=\s*""', b.body, re.M)]
    assert empty == []


@pytest.mark.parametrize("name", [
    "match_threshold", "alert_retention_days", "peak_cameras", "camera_fps", "airflow_parallelism",
    "kube_api_server_cidrs", "external_db_cidrs", "platform_image", "serve_import_path", "gpu_workers",
    "postgres_mode", "postgres_image", "postgres_backup", "postgres_sync_replicas", "object_store", "extra_lfr_env",
    "namespace", "api_server_policy", "cpu_workers", "stage_cpu_ms_per_frame",
])
def test_bounded_variables_have_validation_blocks(blocks: list[Block], name: str) -> None:
    assert "validation" in nested_block_names(variables(blocks)[name].body)


def test_threshold_and_retention_validations_use_the_platform_bounds(blocks: list[Block]) -> None:
    found = variables(blocks)
    assert "var.match_threshold >= -1" in found["match_threshold"].body
    assert "var.match_threshold <= 1" in found["match_threshold"].body
    assert "var.alert_retention_days >= 1" in found["alert_retention_days"].body
    assert re.search(r"default\s*=\s*31\b", found["alert_retention_days"].body)


def test_required_resources_exist(blocks: list[Block]) -> None:
    have = set(resources(blocks))
    required = {
        ("kubernetes_manifest", "namespace"), ("kubernetes_manifest", "platform"),
        ("kubernetes_manifest", "postgres_cluster"), ("kubernetes_manifest", "postgres"),
        ("kubernetes_manifest", "migrate"), ("kubernetes_manifest", "ray"), ("kubernetes_manifest", "gateway"),
        ("helm_release", "cnpg_operator"), ("helm_release", "barman_cloud_plugin"),
        ("helm_release", "kuberay_operator"), ("helm_release", "airflow"),
    }
    assert required - have == set()
    # Every object goes through the rendered manifests the tests validate; no typed resource bypasses them.
    assert {kind for kind, _ in have} == {"kubernetes_manifest", "helm_release"}


def test_charts_are_the_official_ones_and_pinned(blocks: list[Block]) -> None:
    charts = {name: b.body for (kind, name), b in resources(blocks).items() if kind == "helm_release"}
    expected = {
        "airflow": ('"https://airflow.apache.org"', '"airflow"'),
        "kuberay_operator": ('"https://ray-project.github.io/kuberay-helm/"', '"kuberay-operator"'),
        "cnpg_operator": ('"https://cloudnative-pg.github.io/charts"', '"cloudnative-pg"'),
        "barman_cloud_plugin": ('"https://cloudnative-pg.github.io/charts"', '"plugin-barman-cloud"'),
    }
    assert set(charts) == set(expected)
    for name, (repo, chart) in expected.items():
        body = charts[name]
        assert re.search(rf"repository\s*=\s*{re.escape(repo)}", body), name
        assert re.search(rf"chart\s*=\s*{re.escape(chart)}", body), name
        assert re.search(r"version\s*=\s*var\.\w+_chart_version", body), name


def test_vendored_schemas_match_the_pinned_chart_versions(blocks: list[Block]) -> None:
    """Each schema's $comment names the release it came from; the chart defaults install that release."""
    import json

    found = variables(blocks)

    def default(name: str) -> str:
        return re.search(r'default\s*=\s*"([^"]+)"', found[name].body).group(1)

    comments = {p.name: json.loads(p.read_text())["$comment"] for p in (TF_DIR / "schemas").glob("*.json")}
    assert "tag v1.7.0" in comments["rayservice-v1.schema.json"] and default("kuberay_operator_chart_version") == "1.7.0"
    assert all("v1.30.0" in comments[f"cnpg-{k}-v1.schema.json"] for k in ("cluster", "scheduledbackup", "database"))
    assert default("cnpg_operator_chart_version") == "0.29.0"  # installs operator 1.30.0
    assert "version 1.19.0" in comments["airflow-chart-values.schema.json"] and default("airflow_chart_version") == "1.19.0"
    assert all("icense" in c for c in comments.values())


def test_providers_are_pinned(sources: dict[str, str]) -> None:
    text = sources["versions.tf"]
    for provider in ("kubernetes", "helm"):
        block = re.search(rf"{provider}\s*=\s*\{{(.*?)\}}", text, re.S)
        assert block, provider
        assert f'"hashicorp/{provider}"' in block.group(1)
        assert re.search(r'version\s*=\s*"~>\s*\d+\.\d+"', block.group(1)), provider
    assert "required_version" in text


def test_no_egress_to_the_internet(sources: dict[str, str]) -> None:
    # variables.tf names 0.0.0.0/0 only in the validations that reject it.
    for name, text in sources.items():
        if name != "variables.tf":
            assert "0.0.0.0/0" not in text and "::/0" not in text, name
    assert "0.0.0.0/0" not in EXAMPLE_TFVARS.read_text()


SECRET_LITERAL = re.compile(
    r'(?i)^\s*"?[\w.-]*(password|passwd|secret_?key|secretkey|token|fernet_?key|access_?secret)"?\s*[=:]\s*"[^"$]+"',
    re.M,
)


def test_no_hard_coded_secrets() -> None:
    for path in [*TF_FILES, EXAMPLE_TFVARS]:
        text = strip_comments(path.read_text(), path.name)
        hits = [m.group(0).strip() for m in SECRET_LITERAL.finditer(text)]
        assert hits == [], f"{path.name}: literal secret-looking values {hits}"
    # Secret values are only ever referenced (secretKeyRef / existing Secret names).
    joined = "\n".join(f.read_text() for f in TF_FILES)
    assert not re.search(r'resource\s+"kubernetes_secret(_v1)?"', joined)
    assert "random_password" not in joined


def test_secret_checker_catches_a_literal_password() -> None:
    assert SECRET_LITERAL.search('  rootPassword = "hunter2"\n')
    assert SECRET_LITERAL.search('  db_password = "x"\n')
    assert not SECRET_LITERAL.search("  secretKey = local.db_secret_key\n")


def test_example_tfvars_sets_only_declared_variables(blocks: list[Block]) -> None:
    declared = set(variables(blocks))
    text = strip_comments(EXAMPLE_TFVARS.read_text(), EXAMPLE_TFVARS.name)
    assert depth0_attributes(text) - declared == set()
    required = {name for name, b in variables(blocks).items() if "default" not in depth0_attributes(b.body)}
    assert required - depth0_attributes(text) == set()


def test_readme_covers_apply_order_secrets_data_protection_and_limits() -> None:
    text = (TF_DIR / "README.md").read_text()
    for heading in ("## Apply order", "## Secrets", "## Data protection notes", "## What was not verified here",
                    "## Capacity", "## Recovery", "## Network flows"):
        assert heading in text
    assert "31" in text and "audit" in text.lower()


# ---------------------------------------------------------------------------------------------------
# With a terraform binary: fmt, and the variables + locals evaluated without any provider
# ---------------------------------------------------------------------------------------------------


def test_terraform_fmt_check_passes() -> None:
    if TERRAFORM is None:
        pytest.skip("no terraform binary on PATH")
    result = subprocess.run([TERRAFORM, "fmt", "-check", "-recursive", "-no-color", str(TF_DIR)],
                            env=tf_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"files needing `terraform fmt`: {result.stdout}{result.stderr}"


def test_example_settings_reach_the_config_map(rendered) -> None:
    env = rendered["cnpg-gpu"]["lfr_env"]
    assert env["LFR_DB__EMBEDDED"] == "false" and env["LFR_S3__EMBEDDED"] == "false" and env["LFR_S3__SECURE"] == "true"
    assert env["LFR_ALERTS__RETENTION_DAYS"] == "31" and env["LFR_S3__ENDPOINT"] == "s3.force.internal:443"
    assert float(env["LFR_MATCH__THRESHOLD"]) == pytest.approx(0.363)
    assert env["LFR_SERVE__RAYSERVICE"] == "lfr/lfr-serve"
    from lfr_core.config import Settings

    settings = Settings(**{})  # every LFR_ key the ConfigMap sets is a real setting
    for key in env:
        if key.startswith("LFR_") and key != "LFR_SECRETS_DIR":
            group, _, field = key[4:].lower().partition("__")
            target = getattr(settings, group)
            assert not field or field in type(target).model_fields, key


@pytest.mark.parametrize(("override", "message"), [
    ({"match_threshold": "1.5"}, "match_threshold must be in [-1, 1]"),
    ({"alert_retention_days": "0"}, "alert_retention_days must be an integer in [1, 3650]"),
    ({"kube_api_server_cidrs": '["0.0.0.0/0"]'}, "no egress to the internet"),
    ({"platform_image": '"registry.force.internal/lfr/platform:2026.11.0"'}, "pinned by digest"),
    ({"extra_lfr_env": '{ LFR_DB__PASSWORD = "x" }'}, "must not carry secrets"),
    ({"postgres_mode": '"external"', "postgres_backup": None}, "external_db_secret_name is required"),
    ({"postgres_backup": None}, "postgres_backup is required"),
    ({"postgres_image": '"pgvector/pgvector:pg18"'}, "tag starts with the version"),
    ({"postgres_instances": "1"}, "synchronous replication needs a standby"),
    ({"postgres_sync_replicas": "3"}, "postgres_sync_replicas must be below postgres_instances"),
    ({"object_store": '{ endpoint = "s3", cidrs = ["0.0.0.0/0"], access_key_id = "a", credentials_secret_name = "s" }'},
     "never 0.0.0.0/0"),
])
def test_validations_reject_bad_values(eval_dir: Path, override: dict, message: str) -> None:
    result = plan(eval_dir, tfvars_with(EXAMPLE_TFVARS.read_text(), **override), "bad")
    assert result.returncode != 0
    assert message in " ".join((result.stdout + result.stderr).split())


def test_ray_pods_get_the_serve_fast_path_the_launcher_sets(sources: dict[str, str]) -> None:
    from ray_apps.launch import SERVE_FAST_PATH_ENV

    body = sources["locals.tf"].split("ray_serve_env", 1)[1].split("\n  ]", 1)[0]
    pairs = dict(re.findall(r'name\s*=\s*"(RAY_[A-Z_]+)",\s*value\s*=\s*"([^"]*)"', body))
    assert pairs == SERVE_FAST_PATH_ENV
    ray = sources["ray.tf"]
    assert ray.count("local.ray_serve_env") == 3  # head, CPU and GPU workers


def test_serve_config_yaml_is_a_valid_deploy_config_with_the_fast_path() -> None:
    import yaml
    from ray.serve.schema import ServeDeploySchema

    from ray_apps.launch import SERVE_FAST_PATH_ENV
    from ray_apps.options import AppOptions

    config = yaml.safe_load((TF_DIR.parent.parent / "ray_apps" / "serve_config.yaml").read_text())
    app = ServeDeploySchema.model_validate(config).applications[0]
    assert app.import_path == "ray_apps.app:build_app" and config["http_options"]["host"] == "127.0.0.1"
    assert app.runtime_env["env_vars"] == SERVE_FAST_PATH_ENV
    AppOptions.model_validate(app.args)  # the builder's own check: a stale or misspelt option fails here
    assert all("num_replicas" not in d for d in config["applications"][0]["deployments"])  # autoscaled, all
