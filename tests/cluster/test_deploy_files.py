"""deploy/: the Docker Compose file, the Kubernetes manifests and the image, checked without Docker.

This machine runs no container engine, so the files are parsed and their
cross-references checked: every service, port, config and setting they name
exists, and they run the servers as `make run-cluster` does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from scripts.cluster.nginx_config import COMPOSE_ACTION_BACKENDS, COMPOSE_CONF, COMPOSE_RASA_BACKENDS, compose_config
from scripts.cluster.plan import LOGGING, RASA_CONFIG_FILES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
K8S = DEPLOY / "k8s"
# Read by Rasa from endpoints.yml rather than by noc/settings.py.
ENDPOINT_VARIABLES = {"ACTION_ENDPOINT_URL"}
REQUIRED_SECRET = re.compile(r"\$\{(\w+):\?[^}]+\}")
INTERPOLATION = re.compile(r"\$\{[^}]+\}")


def known_settings() -> set[str]:
    """Every variable noc/settings.py reads."""
    source = (ROOT / "noc" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'\("([A-Z][A-Z0-9_]+)"', source)) | {"DATABASE_URL"}


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def k8s_documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    documents = []
    for resource in kustomization["resources"]:
        documents += [doc for doc in yaml.safe_load_all((K8S / resource).read_text(encoding="utf-8")) if doc]
    return documents


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in k8s_documents() if doc["kind"] == kind}


def host_port(url: str) -> tuple[str, int]:
    # What Compose puts in place of ${PASSWORD:?...} does not matter here.
    parts = urlsplit(INTERPOLATION.sub("x", url))
    return parts.hostname or "", parts.port or 0


def rasa_flags(command: list[str]) -> list[str]:
    """The options after ``--port N`` of a Rasa server command: config files and logging."""
    return command[command.index("--port") + 2 :]


# --- Docker Compose ---------------------------------------------------------


def test_compose_runs_the_cluster_of_make_run_cluster() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "rasa-1", "rasa-2", "actions-1", "actions-2", "web", "nginx"} <= set(
        services
    )
    backends = {backend.split(":")[0] for backend in COMPOSE_RASA_BACKENDS + COMPOSE_ACTION_BACKENDS}
    assert backends <= set(services)
    for name in ("rasa-1", "rasa-2"):
        assert rasa_flags(services[name]["command"]) == [*RASA_CONFIG_FILES, *LOGGING]
    for name in ("actions-1", "actions-2"):
        assert services[name]["command"][-2:] == list(LOGGING)
        # The guarded server (noc/action_server/__init__.py), not `rasa run actions`.
        assert services[name]["command"][:3] == ["python", "-m", "noc.action_server"]
        # Reachable from nginx's container, and given the token.
        assert services[name]["environment"]["ACTION_HOST"] == "0.0.0.0"
        assert "ACTION_SERVER_TOKEN" in services[name]["environment"]


@pytest.mark.parametrize(
    ("service", "proxies"),
    [
        # The TLS proxy the file documents, then nginx.
        ("rasa-1", 2),
        ("rasa-2", 2),
        # The TLS proxy only: without it every agent's login would count as the proxy's.
        ("web", 1),
    ],
)
def test_compose_trusts_one_hop_per_proxy_in_front(service: str, proxies: int) -> None:
    assert compose()["services"][service]["environment"]["TRUSTED_PROXY_HOPS"] == str(proxies)


def test_compose_publishes_its_ports_to_the_tls_proxy_only() -> None:
    """A client reaching a port directly could write the X-Forwarded-For entry the servers trust."""
    published = {name: service["ports"] for name, service in compose()["services"].items() if service.get("ports")}
    assert published == {"web": ["127.0.0.1:8080:8080"], "nginx": ["127.0.0.1:5005:5005"]}


def test_compose_references_exist() -> None:
    services = compose()["services"]
    for name, service in services.items():
        depends = service.get("depends_on", [])
        assert set(depends) <= set(services), name
        build = service.get("build")
        if build:
            assert (COMPOSE.parent / build["context"] / build["dockerfile"]).is_file()
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).is_file(), volume


def test_compose_servers_reach_each_other_through_nginx() -> None:
    services = compose()["services"]
    environment = services["rasa-1"]["environment"]
    listen = re.findall(r"listen 0\.0\.0\.0:(\d+);", COMPOSE_CONF.read_text(encoding="utf-8"))
    config = compose_config()
    assert listen == [str(config.rasa_port), str(config.action_port)]
    assert host_port(environment["ACTION_ENDPOINT_URL"]) == ("nginx", config.action_port)
    assert host_port(environment["RASA_URL"]) == ("nginx", config.rasa_port)
    assert services["nginx"]["volumes"] == ["./nginx/compose.conf:/etc/nginx/noc.conf:ro"]
    assert "daemon off;" in services["nginx"]["command"]


def test_compose_uses_postgresql_and_redis_and_asks_for_its_secrets() -> None:
    services = compose()["services"]
    environment = services["web"]["environment"]
    assert urlsplit(environment["DATABASE_URL"]).scheme == "postgresql"
    assert host_port(environment["DATABASE_URL"])[0] == "postgres"
    assert host_port(environment["REDIS_URL"]) == ("redis", 6379)
    required = set(REQUIRED_SECRET.findall(COMPOSE.read_text(encoding="utf-8")))
    assert {"POSTGRES_PASSWORD", "AGENT_API_TOKEN", "ACTION_SERVER_TOKEN"} <= required
    assert "ACTION_SERVER_TOKEN" in services["rasa-1"]["environment"]


def test_compose_sets_only_known_settings() -> None:
    for name, service in compose()["services"].items():
        if "build" not in service:
            continue
        unknown = set(service.get("environment", {})) - known_settings() - ENDPOINT_VARIABLES
        assert not unknown, f"{name}: {unknown}"


# --- Kubernetes -------------------------------------------------------------


def test_k8s_has_no_secret_values() -> None:
    assert "Secret" not in {doc["kind"] for doc in k8s_documents()}


@pytest.mark.parametrize(("deployment", "replicas"), [("noc-rasa", 2), ("noc-actions", 2), ("noc-web", 1)])
def test_k8s_replicas(deployment: str, replicas: int) -> None:
    assert of_kind("Deployment")[deployment]["spec"]["replicas"] == replicas


def test_k8s_services_select_their_deployments_and_ports() -> None:
    deployments = of_kind("Deployment")
    for name, service in of_kind("Service").items():
        selector = service["spec"]["selector"]
        matching = [
            deployment
            for deployment in deployments.values()
            if selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matching) == 1, name
        port_names = {port["name"] for port in matching[0]["spec"]["template"]["spec"]["containers"][0]["ports"]}
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names, name


def test_k8s_deployments_select_their_own_pods() -> None:
    for name, deployment in of_kind("Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items(), name


def test_k8s_containers_read_the_config_and_the_secret() -> None:
    configs = of_kind("ConfigMap")
    workloads = list(of_kind("Deployment").values()) + list(of_kind("Job").values())
    for workload in workloads:
        for container in workload["spec"]["template"]["spec"]["containers"]:
            sources = container["envFrom"]
            assert {source["configMapRef"]["name"] for source in sources if "configMapRef" in source} <= set(configs)
            assert {"noc-secrets"} == {source["secretRef"]["name"] for source in sources if "secretRef" in source}
    deployments = of_kind("Deployment")
    rasa = deployments["noc-rasa"]["spec"]["template"]["spec"]["containers"][0]
    assert rasa_flags(rasa["command"]) == [*RASA_CONFIG_FILES, *LOGGING]
    actions = deployments["noc-actions"]["spec"]["template"]["spec"]["containers"][0]
    assert actions["command"][:3] == ["python", "-m", "noc.action_server"]
    assert {"name": "ACTION_HOST", "value": "0.0.0.0"} in actions["env"]


def test_k8s_config_names_the_services_and_known_settings() -> None:
    data = of_kind("ConfigMap")["noc-config"]["data"]
    services = of_kind("Service")
    action_host, action_port = host_port(data["ACTION_ENDPOINT_URL"])
    rasa_host, rasa_port = host_port(data["RASA_URL"])
    assert action_port in [port["port"] for port in services[action_host]["spec"]["ports"]]
    assert rasa_port in [port["port"] for port in services[rasa_host]["spec"]["ports"]]
    assert set(data) - known_settings() - ENDPOINT_VARIABLES == set()


def test_k8s_ingress_backends_exist() -> None:
    services = of_kind("Service")
    paths = {}
    for ingress in of_kind("Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["port"]["name"] in {port["name"] for port in services[backend["name"]]["spec"]["ports"]}
                paths[path["path"]] = ingress
    assert paths["/socket.io"]["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert "/webhooks" in paths


def test_k8s_resends_only_the_customers_messages_and_only_on_a_broken_connection() -> None:
    # As deploy/nginx/noc.conf.j2 does (test_nginx_config.py): a message whose pod died is sent to another.
    resent = {}
    for ingress in of_kind("Ingress").values():
        annotations = ingress["metadata"].get("annotations") or {}
        next_upstream = annotations.get("nginx.ingress.kubernetes.io/proxy-next-upstream")
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                if next_upstream and "non_idempotent" in next_upstream.split():
                    resent[path["path"]] = (path["pathType"], next_upstream)
    assert resent == {
        "/webhooks/rest/webhook": ("Exact", "error non_idempotent"),
        "/webhooks/twilio/webhook": ("Exact", "error non_idempotent"),
    }


def allowed_sources(policy: dict[str, Any]) -> set[str]:
    """Who a policy lets in: ``component:<name>`` for the namespace's pods, ``namespace:<name>`` for another's."""
    sources = set()
    for rule in policy["spec"].get("ingress") or []:
        for peer in rule["from"]:
            if "podSelector" in peer:
                sources.add(f"component:{peer['podSelector']['matchLabels']['app.kubernetes.io/component']}")
            else:
                sources.add(f"namespace:{peer['namespaceSelector']['matchLabels']['kubernetes.io/metadata.name']}")
    return sources


def test_k8s_network_policies_let_each_server_be_reached_only_by_its_callers() -> None:
    policies = of_kind("NetworkPolicy")
    deny = [p for p in policies.values() if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")]
    assert deny and deny[0]["spec"]["policyTypes"] == ["Ingress"], "no default deny of incoming connections"
    reached_by = {}
    for deployment in of_kind("Deployment").values():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        component = labels["app.kubernetes.io/component"]
        selecting = [
            p
            for p in policies.values()
            if p["spec"]["podSelector"] and p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
        ]
        ports = {port["name"] for port in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]}
        for policy in selecting:
            for rule in policy["spec"]["ingress"]:
                assert {port["port"] for port in rule["ports"]} <= ports, policy["metadata"]["name"]
        reached_by[component] = set().union(*(allowed_sources(p) for p in selecting))
    assert reached_by == {
        "actions": {"component:rasa"},
        "rasa": {"namespace:ingress-nginx", "component:web"},
        "web": {"namespace:ingress-nginx"},
    }


# --- The image --------------------------------------------------------------


def test_the_image_installs_the_lock_file_and_bakes_the_model() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.10", dockerfile, re.MULTILINE), "Rasa 3.6 needs Python 3.10"
    assert "pip install --no-cache-dir -r requirements.lock" in dockerfile
    assert "npm ci" in dockerfile
    assert "rasa train --fixed-model-name noc" in dockerfile
    assert re.search(r"^USER (?!root)", dockerfile, re.MULTILINE)
    for source in re.findall(r"^COPY (?!--from)(?:--\S+ )*(\S+(?: \S+)*) \S+$", dockerfile, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), path


def test_the_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = set((DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".venv", ".git", "var", "models"} <= ignored
