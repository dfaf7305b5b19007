"""Offline checks of the production Terraform in infra/terraform.

The kubernetes and helm providers cannot be downloaded here, so `terraform validate` cannot run. What can
run offline is checked instead: a small HCL scanner (strings, comments, bracket balance, top-level
blocks) asserts the structure and the policy rules (typed and documented variables, default-deny
network policy, no literal secrets, no internet egress); when a `terraform` binary is present,
`terraform fmt -check` parses every file, and the variables plus every `locals` block are evaluated by
`terraform plan` in a provider-free copy, which runs the validation blocks and type-checks the values
handed to the charts and to the RayService.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

TF_DIR = Path(__file__).resolve().parents[2] / "infra" / "terraform"
TF_FILES = sorted(TF_DIR.glob("*.tf"))
EXAMPLE_TFVARS = TF_DIR / "terraform.tfvars.example"
TERRAFORM = shutil.which("terraform")
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
    "match_threshold", "alert_retention_days", "serve_min_replicas", "serve_max_replicas", "airflow_parallelism",
    "kube_api_server_cidrs", "external_db_cidrs", "platform_image", "serve_import_path", "gpu_workers",
    "postgres_mode", "s3_server_side_encryption", "extra_lfr_env", "namespace",
])
def test_bounded_variables_have_validation_blocks(blocks: list[Block], name: str) -> None:
    assert "validation" in nested_block_names(variables(blocks)[name].body)


def test_threshold_and_retention_validations_use_the_platform_bounds(blocks: list[Block]) -> None:
    found = variables(blocks)
    assert "var.match_threshold >= -1" in found["match_threshold"].body
    assert "var.match_threshold <= 1" in found["match_threshold"].body
    assert "var.alert_retention_days >= 1" in found["alert_retention_days"].body
    assert re.search(r"default\s*=\s*31\b", found["alert_retention_days"].body)
    assert "var.serve_max_replicas >= var.serve_min_replicas" in found["serve_max_replicas"].body


def test_required_resources_exist(blocks: list[Block]) -> None:
    have = set(resources(blocks))
    required = {
        ("kubernetes_namespace_v1", "lfr"),
        ("kubernetes_network_policy_v1", "default_deny"),
        ("kubernetes_network_policy_v1", "serve_from_ingress"),
        ("kubernetes_network_policy_v1", "postgres_ingress"),
        ("kubernetes_network_policy_v1", "minio_ingress"),
        ("kubernetes_config_map_v1", "lfr"),
        ("helm_release", "cnpg_operator"),
        ("kubernetes_manifest", "postgres_cluster"),
        ("helm_release", "minio"),
        ("helm_release", "airflow"),
        ("helm_release", "kuberay_operator"),
        ("kubernetes_manifest", "ray_service"),
        ("kubernetes_job_v1", "migrate"),
        ("kubernetes_ingress_v1", "serve"),
    }
    assert required - have == set()


def test_charts_are_the_official_ones_and_pinned(blocks: list[Block]) -> None:
    charts = {name: b.body for (kind, name), b in resources(blocks).items() if kind == "helm_release"}
    expected = {
        "minio": ('"https://charts.min.io/"', '"minio"'),
        "airflow": ('"https://airflow.apache.org"', '"airflow"'),
        "kuberay_operator": ('"https://ray-project.github.io/kuberay-helm/"', '"kuberay-operator"'),
        "cnpg_operator": ('"https://cloudnative-pg.github.io/charts"', '"cloudnative-pg"'),
    }
    for name, (repo, chart) in expected.items():
        body = charts[name]
        assert re.search(rf"repository\s*=\s*{re.escape(repo)}", body), name
        assert re.search(rf"chart\s*=\s*{re.escape(chart)}", body), name
        assert re.search(r"version\s*=\s*var\.\w+_chart_version", body), name


def test_providers_are_pinned(sources: dict[str, str]) -> None:
    text = sources["versions.tf"]
    for provider in ("kubernetes", "helm"):
        block = re.search(rf"{provider}\s*=\s*\{{(.*?)\}}", text, re.S)
        assert block, provider
        assert f'"hashicorp/{provider}"' in block.group(1)
        assert re.search(r'version\s*=\s*"~>\s*\d+\.\d+"', block.group(1)), provider
    assert "required_version" in text


def test_default_deny_policy_covers_every_pod_both_directions(blocks: list[Block]) -> None:
    body = resources(blocks)[("kubernetes_network_policy_v1", "default_deny")].body
    assert re.search(r"pod_selector\s*\{\s*\}", body)
    assert re.search(r'policy_types\s*=\s*\[\s*"Ingress"\s*,\s*"Egress"\s*\]', body)
    assert "ingress {" not in body and "egress {" not in body


def test_only_the_ingress_controller_reaches_the_serve_port(blocks: list[Block]) -> None:
    found = resources(blocks)
    body = found[("kubernetes_network_policy_v1", "serve_from_ingress")].body
    assert "var.ingress_controller_namespace" in body and "var.serve_port" in body
    # No other policy opens the Serve port.
    others = [name for (kind, name), b in found.items()
              if kind == "kubernetes_network_policy_v1" and name != "serve_from_ingress" and "var.serve_port" in b.body]
    assert others == []


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
    for heading in ("## Apply order", "## Secrets", "## Data protection notes", "## What was not verified here"):
        assert heading in text
    assert "31" in text and "audit" in text.lower()


# ---------------------------------------------------------------------------------------------------
# With a terraform binary: fmt, and the variables + locals evaluated without any provider
# ---------------------------------------------------------------------------------------------------

needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="no terraform binary on PATH")

# Resource attributes the locals read, replaced by what they resolve to, so that the locals can be
# evaluated in a configuration that has no resources and needs no provider.
RESOURCE_STUBS = {
    "kubernetes_config_map_v1.lfr.metadata[0].name": "local.config_name",
    "kubernetes_namespace_v1.lfr.metadata[0].name": "var.namespace",
    "kubernetes_service_account_v1.ray.metadata[0].name": '"lfr-ray"',
    "kubernetes_config_map_v1.ray_address.metadata[0].name": '"lfr-ray-address"',
}
EVAL_OUTPUTS = ("ray_service_manifest", "airflow_values", "minio_values", "lfr_env", "lfr_secret_env")


def _tf_env() -> dict[str, str]:
    return {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}


@pytest.fixture(scope="module")
def eval_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """variables.tf plus every `locals` block, with resource references stubbed; initialised."""
    work = tmp_path_factory.mktemp("tf-eval")
    parts = [(TF_DIR / "variables.tf").read_text()]
    for path in TF_FILES:
        if path.name == "variables.tf":
            continue
        for m in re.finditer(r"(?ms)^locals \{\n.*?^\}\n", path.read_text()):
            block = m.group(0)
            for ref, stub in RESOURCE_STUBS.items():
                block = block.replace(ref, stub)
            parts.append(block)
    parts += [f'output "{name}" {{\n  value = local.{name}\n}}\n' for name in EVAL_OUTPUTS]
    leftover = re.findall(r"\b(kubernetes_\w+|helm_release)\.\w+", "\n".join(parts[1:]))
    assert leftover == [], f"locals read resources without a stub: {leftover}"
    (work / "main.tf").write_text("\n".join(parts))
    subprocess.run([TERRAFORM, "init", "-backend=false", "-input=false"], cwd=work, env=_tf_env(),
                   check=True, capture_output=True, timeout=120)
    return work


def plan(work: Path, tfvars: str, name: str) -> subprocess.CompletedProcess[str]:
    (work / f"{name}.tfvars").write_text(tfvars)
    return subprocess.run(
        [TERRAFORM, "plan", "-input=false", "-lock=false", "-no-color", f"-var-file={name}.tfvars", f"-out={name}.plan"],
        cwd=work, env=_tf_env(), capture_output=True, text=True, timeout=120,
    )


def planned_outputs(work: Path, tfvars: str, name: str) -> dict[str, object]:
    result = plan(work, tfvars, name)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = subprocess.run([TERRAFORM, "show", "-json", f"{name}.plan"], cwd=work, env=_tf_env(),
                           capture_output=True, text=True, timeout=120, check=True)
    return {k: v["value"] for k, v in json.loads(shown.stdout)["planned_values"]["outputs"].items()}


@needs_terraform
def test_terraform_fmt_check_passes() -> None:
    result = subprocess.run([TERRAFORM, "fmt", "-check", "-recursive", "-no-color", str(TF_DIR)],
                            env=_tf_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"files needing `terraform fmt`: {result.stdout}{result.stderr}"


@needs_terraform
def test_example_tfvars_evaluate_to_the_expected_deployment(eval_dir: Path) -> None:
    out = planned_outputs(eval_dir, EXAMPLE_TFVARS.read_text(), "example")

    env = out["lfr_env"]
    assert env["LFR_DB__EMBEDDED"] == "false" and env["LFR_S3__EMBEDDED"] == "false"
    assert env["LFR_ALERTS__RETENTION_DAYS"] == "31"
    assert env["LFR_S3__BUCKET_IMAGES"] == "lfr-watchlist-images"
    assert float(env["LFR_MATCH__THRESHOLD"]) == pytest.approx(0.363)
    assert not [k for k in env if re.search(r"DSN|PASSWORD|SECRET", k)], "secrets must not be in the ConfigMap"
    assert {e["name"] for e in out["lfr_secret_env"]} == {"LFR_DB__DSN", "LFR_S3__SECRET_KEY"}

    spec = out["ray_service_manifest"]["spec"]
    assert "ray_apps.app:build_app" in spec["serveConfigV2"]
    groups = {g["groupName"]: g for g in spec["rayClusterConfig"]["workerGroupSpecs"]}
    assert set(groups) == {"cpu", "gpu"}
    gpu_pod = groups["gpu"]["template"]["spec"]
    assert gpu_pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert gpu_pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert {"name": "LFR_VISION__DEVICE", "value": "cuda"} in gpu_pod["containers"][0]["env"]

    minio = out["minio_values"]
    locked = {b["name"] for b in minio["buckets"] if b["objectlocking"]}
    assert locked == {"lfr-watchlists", "lfr-reports"}
    assert {b["name"] for b in minio["buckets"]} == {
        "lfr-watchlists", "lfr-reports", "lfr-sources", "lfr-alerts", "lfr-watchlist-images",
    }
    # A purge deletes image copies by key: versioning there would keep purged images as old versions.
    assert [b["name"] for b in minio["buckets"] if not b["versioning"]] == ["lfr-watchlist-images"]
    assert any(c["command"].startswith("retention set --default GOVERNANCE") for c in minio["customCommands"])

    # Every bucket the platform's settings name is created, under the same name.
    from lfr_core.config import S3Settings

    for field, info in S3Settings.model_fields.items():
        if field.startswith("bucket_"):
            assert env[f"LFR_S3__{field.upper()}"] == info.default
            assert info.default in {b["name"] for b in minio["buckets"]}

    airflow = out["airflow_values"]
    assert airflow["config"]["core"]["parallelism"] == 8
    assert "lfr-config" in airflow["extraEnvFrom"]


@needs_terraform
def test_import_path_gpu_off_and_git_sync_variant_evaluates(eval_dir: Path) -> None:
    tfvars = EXAMPLE_TFVARS.read_text().replace('"ray_apps.app:build_app"', '"ray_apps.serve:build"')
    tfvars = re.sub(r"(?ms)^gpu_workers = \{.*?^\}\n", "gpu_workers = { enabled = false }\n", tfvars)
    tfvars = tfvars.replace('airflow_dags_source = "image"', "") + (
        'airflow_dags_source = "git-sync"\n'
        'airflow_git_sync = { repo = "ssh://git@git.force.internal/lfr.git", server_cidrs = ["10.40.0.20/32"] }\n'
    )
    out = planned_outputs(eval_dir, tfvars, "variant")
    spec = out["ray_service_manifest"]["spec"]
    assert "ray_apps.serve:build" in spec["serveConfigV2"]
    assert [g["groupName"] for g in spec["rayClusterConfig"]["workerGroupSpecs"]] == ["cpu"]
    assert out["airflow_values"]["dags"]["gitSync"]["enabled"] is True


@needs_terraform
@pytest.mark.parametrize(("override", "message"), [
    ("match_threshold = 1.5", "match_threshold must be in [-1, 1]"),
    ("alert_retention_days = 0", "alert_retention_days must be an integer in [1, 3650]"),
    ("serve_min_replicas = 5\nserve_max_replicas = 2", "serve_max_replicas must be >= serve_min_replicas"),
    ('kube_api_server_cidrs = ["0.0.0.0/0"]', "no egress to the internet"),
    ('platform_image = "registry.force.internal/lfr/platform:latest"', "explicit tag or digest"),
    ('extra_lfr_env = { LFR_DB__PASSWORD = "x" }', "must not carry secrets"),
    ('postgres_mode = "external"', "external_db_secret_name is required"),
])
def test_validations_reject_bad_values(eval_dir: Path, override: str, message: str) -> None:
    keys = {line.split("=")[0].strip() for line in override.splitlines()}
    kept = [line for line in EXAMPLE_TFVARS.read_text().splitlines()
            if line.split("=")[0].strip() not in keys]
    result = plan(eval_dir, "\n".join(kept) + "\n" + override + "\n", "bad")
    assert result.returncode != 0
    assert message in " ".join((result.stdout + result.stderr).split())


def test_ray_pods_get_the_serve_fast_path_the_launcher_sets(sources: dict[str, str]) -> None:
    from ray_apps.launch import SERVE_FAST_PATH_ENV

    body = sources["locals.tf"].split("ray_serve_env", 1)[1].split("])", 1)[0]
    pairs = dict(re.findall(r'name\s*=\s*"(RAY_[A-Z_]+)",\s*value\s*=\s*"([^"]*)"', body))
    assert pairs == SERVE_FAST_PATH_ENV
    ray = sources["ray.tf"]
    assert ray.count("local.ray_serve_env") == 3 and "local.lfr_secret_env" not in ray  # head, CPU and GPU workers


def test_serve_config_yaml_is_a_valid_deploy_config_with_the_fast_path() -> None:
    import yaml
    from ray.serve.schema import ServeDeploySchema

    from ray_apps.launch import SERVE_FAST_PATH_ENV

    config = yaml.safe_load((TF_DIR.parent.parent / "ray_apps" / "serve_config.yaml").read_text())
    app = ServeDeploySchema.model_validate(config).applications[0]
    assert app.import_path == "ray_apps.app:build_app" and config["http_options"]["host"] == "127.0.0.1"
    assert app.runtime_env["env_vars"] == SERVE_FAST_PATH_ENV
