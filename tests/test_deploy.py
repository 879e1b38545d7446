"""deploy/: the Kubernetes manifests validate against the Kubernetes schemas, the route and
the proxy keep WebSocket sessions open, and the compose files hold what docs/deploy.md says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "kubernetes"


def test_kubernetes_manifests_validate_strictly() -> None:
    files = sorted(str(p) for p in K8S.glob("*.yaml"))
    out = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "--strict", "-k", "1.30.0", *files],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    for kind in (
        "deployment",
        "service",
        "ingress",
        "horizontalpodautoscaler",
        "persistentvolumeclaim",
    ):
        assert f"passed for resource {kind}/" in out.stdout + out.stderr


def test_the_deployment_drains_sessions_and_probes_health() -> None:
    d = yaml.safe_load((K8S / "deployment.yaml").read_text())
    pod = d["spec"]["template"]["spec"]
    app = pod["containers"][0]
    env = {e["name"]: e["value"] for e in app["env"]}
    assert env["BACKPROP_WORKERS"] == "1"  # one process per pod
    assert app["resources"]["requests"]["cpu"]
    assert app["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert app["livenessProbe"]["httpGet"]["path"] == "/healthz"
    pre_stop = app["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + 10  # time for a last status
    hpa = yaml.safe_load((K8S / "hpa.yaml").read_text())
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 600
    pvc = yaml.safe_load((K8S / "pvc.yaml").read_text())
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_the_route_keeps_websockets_open() -> None:
    """kubernetes-validate skips custom resources such as HTTPRoute: check it by hand."""
    route = yaml.safe_load((K8S / "httproute.yaml").read_text())
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1" and route["kind"] == "HTTPRoute"
    rule = route["spec"]["rules"][0]
    assert rule["backendRefs"] == [{"name": "backprop-lab", "port": 80}]
    assert int(rule["timeouts"]["request"].rstrip("s")) >= 3600
    ingress = yaml.safe_load((K8S / "ingress.yaml").read_text())
    assert (
        int(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"])
        >= 3600
    )


def test_the_proxy_balances_by_least_connections_and_passes_the_host_with_its_port() -> None:
    for name in ("nginx.conf", "nginx.ci.conf"):
        conf = (ROOT / "deploy" / name).read_text()
        assert "least_conn;" in conf
        assert "proxy_set_header Host $http_host;" in conf
        assert "proxy_set_header Upgrade $http_upgrade;" in conf
        assert "proxy_read_timeout 3600s;" in conf
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    assert {"app1", "app2", "proxy"} <= set(compose["services"])
    # one volume of saved models, one of classes (docs/teaching.md), shared by the replicas
    for app in ("app1", "app2"):
        assert compose["services"][app]["volumes"] == ["models:/data", "classes:/classes"]
        assert compose["services"][app]["environment"]["BACKPROP_CLASS_DIR"] == "/classes"
    assert compose["services"]["proxy"]["image"] == "nginx:stable"
