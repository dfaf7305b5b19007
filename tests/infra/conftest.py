"""The production configuration rendered without a cluster: variables.tf plus every `locals` block of
infra/terraform in a provider-free copy, planned with a tfvars file; its outputs are exactly the
manifests and chart values that `terraform apply` would send (apply.tf applies `local.manifests`,
operators.tf the Airflow values)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

TF_DIR = Path(__file__).resolve().parents[2] / "infra" / "terraform"
SCHEMAS = TF_DIR / "schemas"
EXAMPLE_TFVARS = TF_DIR / "terraform.tfvars.example"
TERRAFORM = shutil.which("terraform")
RENDERED = ("manifests", "airflow_values", "capacity", "lfr_env", "object_store_policy")

needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="no terraform binary on PATH")


def tf_env() -> dict[str, str]:
    return {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}


def tfvars_with(base: str, **overrides: str) -> str:
    """The example tfvars with top-level assignments replaced (a value of None drops the variable)."""
    text = base
    for name, value in overrides.items():
        text = re.sub(rf"(?ms)^{name}\s*=\s*(\{{.*?^\}}|[^\n]*)\n", "", text)
        if value is not None:
            text += f"{name} = {value}\n"
    return text


@pytest.fixture(scope="session")
def eval_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """variables.tf plus every `locals` block, initialised; locals never read a resource, so none is stubbed."""
    if TERRAFORM is None:
        pytest.skip("no terraform binary on PATH")
    work = tmp_path_factory.mktemp("tf-eval")
    parts = [(TF_DIR / "variables.tf").read_text()]
    for path in sorted(TF_DIR.glob("*.tf")):
        if path.name != "variables.tf":
            parts += [m.group(0) for m in re.finditer(r"(?ms)^locals \{\n.*?^\}\n", path.read_text())]
    leftover = re.findall(r"\b(kubernetes_\w+|helm_release)\.\w+", "\n".join(parts[1:]))
    assert leftover == [], f"locals read resources: {leftover}"
    parts += [f'output "{name}" {{\n  value = local.{name}\n}}\n' for name in RENDERED]
    (work / "main.tf").write_text("\n".join(parts))
    subprocess.run([TERRAFORM, "init", "-backend=false", "-input=false"], cwd=work, env=tf_env(),
                   check=True, capture_output=True, timeout=120)
    return work


def plan(work: Path, tfvars: str, name: str) -> subprocess.CompletedProcess[str]:
    (work / f"{name}.tfvars").write_text(tfvars)
    return subprocess.run(
        [TERRAFORM, "plan", "-input=false", "-lock=false", "-no-color", f"-var-file={name}.tfvars", f"-out={name}.plan"],
        cwd=work, env=tf_env(), capture_output=True, text=True, timeout=180,
    )


def render(work: Path, tfvars: str, name: str) -> dict[str, object]:
    result = plan(work, tfvars, name)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = subprocess.run([TERRAFORM, "show", "-json", f"{name}.plan"], cwd=work, env=tf_env(),
                           capture_output=True, text=True, timeout=120, check=True)
    return {k: v["value"] for k, v in json.loads(shown.stdout)["planned_values"]["outputs"].items()}


# The configurations a force can choose, each rendered once: in-cluster PostgreSQL with GPUs and
# Calico-style policies (the example), and a managed PostgreSQL, CPU only, git-sync and Cilium.
VARIANTS = {
    "cnpg-gpu": {},
    "external-cpu-cilium": {
        "postgres_mode": '"external"', "postgres_backup": None,
        "external_db_secret_name": '"lfr-db"', "external_db_cidrs": '["10.30.0.5/32"]',
        "gpu_workers": "{ enabled = false }", "api_server_policy": '"cilium-entity"',
        "airflow_dags_source": '"git-sync"',
        "airflow_git_sync": '{ repo = "ssh://git@git.force.internal/lfr.git", server_cidrs = ["10.40.0.20/32"] }',
        "ray_gcs_fault_tolerance": '{ redis_address = "redis.force.internal:6379", '
                                   'password_secret_name = "lfr-ray-redis", redis_cidrs = ["10.70.0.5/32"] }',
    },
}


@pytest.fixture(scope="session")
def rendered(eval_dir: Path) -> dict[str, dict[str, object]]:
    base = EXAMPLE_TFVARS.read_text()
    return {name: render(eval_dir, tfvars_with(base, **overrides), name) for name, overrides in VARIANTS.items()}
