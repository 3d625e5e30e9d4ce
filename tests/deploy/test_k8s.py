"""The Kubernetes manifests (deploy/k8s): rendered as `kubectl apply -k` would, every object valid
against the pinned Kubernetes version's schemas (kubernetes-validate, offline, strict: an unknown
field is an error), yamllint clean, and wired as a user relies on: probes on /health at the
container's port, the key from the Secret under the variable the app reads, the resources of
README's table, the Service and the autoscaler pointing at the Deployment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BASE = DEPLOY / "k8s"
# The oldest Kubernetes the manifests promise to run on (README, "Kubernetes"): the native
# preStop sleep is beta and on by default from 1.30.
KUBERNETES_VERSION = "1.30.0"
# The kustomization fields the renderer below understands; another one must be taught to it.
KUSTOMIZE_FIELDS = {"apiVersion", "kind", "resources", "labels"}


def render(directory: Path) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize DIRECTORY` prints, for the fields this project uses:
    the listed resource files in order, with the `labels` pairs added to each object's labels
    (and to its selectors and pod templates where the entry asks for them)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - KUSTOMIZE_FIELDS
    assert not unknown, f"render() does not know kustomization fields {sorted(unknown)}"
    objects = []
    for name in kustomization["resources"]:
        path = directory / name
        assert path.is_file(), f"{path} is not a file (render() reads files only)"
        objects += [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    for entry in kustomization.get("labels", []):
        for obj in objects:
            obj.setdefault("metadata", {}).setdefault("labels", {}).update(entry["pairs"])
            spec = obj.get("spec", {})
            if entry.get("includeSelectors"):
                spec.get("selector", {}).get("matchLabels", spec.get("selector", {})).update(
                    entry["pairs"]
                )
            if entry.get("includeSelectors") or entry.get("includeTemplates"):
                template = spec.get("template", {}).get("metadata", {})
                template.setdefault("labels", {}).update(entry["pairs"])
    return objects


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    rendered = render(BASE)
    by_kind = {obj["kind"]: obj for obj in rendered}
    assert len(by_kind) == len(rendered), "one object of each kind expected"
    return by_kind


@pytest.fixture(scope="module")
def container(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    [container] = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    return container


def manifests() -> list[Path]:
    return sorted(DEPLOY.rglob("*.yaml"))


def test_base_has_the_service_objects(objects: dict[str, dict[str, Any]]) -> None:
    assert set(objects) == {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }


@pytest.mark.parametrize("path", manifests(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_manifest_passes_yamllint(path: Path) -> None:
    config = YamlLintConfig(file=str(DEPLOY / ".yamllint.yaml"))
    problems = [f"{path.name}:{p.line}: {p.message}" for p in linter.run(path.read_text(), config)]
    assert problems == []


def test_every_object_is_valid_for_the_pinned_kubernetes(
    objects: dict[str, dict[str, Any]],
) -> None:
    for obj in [*objects.values(), *yaml.safe_load_all((BASE / "secret.example.yaml").read_text())]:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_a_typo_in_a_field_is_caught(objects: dict[str, dict[str, Any]]) -> None:
    # The oracle for the test above: strict validation does reject what kubectl would.
    deployment = yaml.safe_load(yaml.safe_dump(objects["Deployment"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = (
        "/health"
    )
    with pytest.raises(kubernetes_validate.ValidationError, match="paht"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_renderer_matches_kustomize_on_labels(objects: dict[str, dict[str, Any]]) -> None:
    # kustomize's `labels` without includeSelectors labels the objects, never their selectors.
    for obj in objects.values():
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "slot-tagger"
    selector = objects["Deployment"]["spec"]["selector"]["matchLabels"]
    assert "app.kubernetes.io/part-of" not in selector


def test_probes_ask_health_on_the_port_the_server_listens_on(container: dict[str, Any]) -> None:
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    # The image's command serves on 8000 (Dockerfile CMD and EXPOSE).
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^CMD \[.*"--port", "8000"\]$', dockerfile, re.M)
    assert re.search(r"^EXPOSE 8000$", dockerfile, re.M)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/health", probe
        assert ports[get["port"]] == 8000, probe


def test_health_is_open_with_an_api_key_set(container: dict[str, Any]) -> None:
    # The probes send no key: /health must be one of the paths the key gate leaves open.
    from app.security import OPEN_PATHS

    assert "/health" in OPEN_PATHS
    assert "Authorization" not in str(container["readinessProbe"])


def test_api_key_comes_from_the_secret_under_the_variable_the_app_reads(
    container: dict[str, Any],
) -> None:
    [env] = [e for e in container["env"] if "valueFrom" in e]
    prefix = Settings.model_config["env_prefix"]
    assert env["name"] == f"{prefix}API_KEY" and "api_key" in Settings.model_fields
    ref = env["valueFrom"]["secretKeyRef"]
    [secret] = yaml.safe_load_all((BASE / "secret.example.yaml").read_text())
    assert ref["name"] == secret["metadata"]["name"]
    assert ref["key"] in secret["stringData"]
    assert ref.get("optional") is not True  # no key, no start: never silently open
    readme = (ROOT / "README.md").read_text()
    assert f"kubectl create secret generic {ref['name']} --from-literal={ref['key']}=" in readme


def test_pod_is_non_root_with_a_read_only_root_filesystem(
    objects: dict[str, dict[str, Any]], container: dict[str, Any]
) -> None:
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    # The image's user (Dockerfile USER), so runAsNonRoot holds without a rewrite.
    assert "USER 10001:10001" in (ROOT / "Dockerfile").read_text()
    assert pod["securityContext"]["runAsUser"] == 10001
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    # The only writable place is $HOME, for ONNX Runtime's telemetry id.
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/home/app"]
    assert [v["emptyDir"] for v in pod["volumes"]] == [{"medium": "Memory", "sizeLimit": "1Mi"}]


def readme_resources() -> dict[str, str]:
    """The rows of README's resource table: `| cpu request | `1` | ... |`."""
    section = (ROOT / "README.md").read_text().split("## Kubernetes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (cpu|memory) (request|limit) \| `([^`]+)` \|", section, re.M)
    return {f"{kind} {which}": value for kind, which, value in rows}


def test_resources_are_the_ones_readme_gives(container: dict[str, Any]) -> None:
    resources = container["resources"]
    given = {
        f"{kind} {which}": resources[f"{which}s"][kind]
        for kind in ("cpu", "memory")
        for which in ("request", "limit")
    }
    assert given == readme_resources()


def test_service_and_autoscaler_reach_the_deployment(objects: dict[str, dict[str, Any]]) -> None:
    deployment = objects["Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    service = objects["Service"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    [port] = service["spec"]["ports"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert port["targetPort"] in {p["name"] for p in container["ports"]}
    target = objects["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        deployment["apiVersion"],
        "Deployment",
        deployment["metadata"]["name"],
    )
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count
    hpa = objects["HorizontalPodAutoscaler"]["spec"]
    assert 2 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    pdb = objects["PodDisruptionBudget"]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pdb["minAvailable"] < hpa["minReplicas"]  # a drain can always proceed


def test_grace_period_outlasts_the_longest_request(objects: dict[str, dict[str, Any]]) -> None:
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    longest = Settings.model_fields["request_timeout_s"].default
    assert pod["terminationGracePeriodSeconds"] > pause + longest


RAY = BASE / "ray"


@pytest.fixture(scope="module")
def rayservice() -> dict[str, Any]:
    [obj] = render(RAY)
    return obj


def test_rayservice_has_kuberays_structure(rayservice: dict[str, Any]) -> None:
    import json

    import jsonschema

    schema = json.loads((RAY / "rayservice.schema.json").read_text())
    jsonschema.validate(rayservice, schema)
    broken = yaml.safe_load(yaml.safe_dump(rayservice))
    broken["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["rayStartParams"]["num-cpus"] = 2
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'string'"):
        jsonschema.validate(broken, schema)  # KubeRay takes ray start's parameters as strings


def test_rayservice_pods_are_valid_kubernetes_pod_templates(rayservice: dict[str, Any]) -> None:
    cluster = rayservice["spec"]["rayClusterConfig"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for group in groups:
        pod = {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": "check"},
            "template": group["template"],
        }
        kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)
        [container] = group["template"]["spec"]["containers"]
        [env] = container["env"]
        assert env["name"] == "SLOT_TAGGER_API_KEY"
        assert env["valueFrom"]["secretKeyRef"] == {"name": "slot-tagger-api-key", "key": "api-key"}
        assert group["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_rayservice_serves_this_projects_application(rayservice: dict[str, Any]) -> None:
    ray_serve = pytest.importorskip("app.ray_serve", reason="the [ray] extra is not installed")
    from ray.serve.schema import ServeDeploySchema

    config = ServeDeploySchema(**yaml.safe_load(rayservice["spec"]["serveConfigV2"]))
    [application] = config.applications
    assert application.name == ray_serve.APPLICATION
    assert application.import_path == "app.ray_serve:build"
    module, _, name = application.import_path.partition(":")
    assert module == ray_serve.__name__ and callable(getattr(ray_serve, name))
    args = ray_serve.ServeArgs(**application.args)  # a typo in an argument is an error
    assert args.num_replicas == "auto" and args.min_replicas >= 2
    workers = rayservice["spec"]["rayClusterConfig"]["workerGroupSpecs"]
    cpus = sum(
        int(group["maxReplicas"])
        * float(group["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"])
        for group in workers
    )
    # The autoscaler can place every replica, the model's most and the ingress's.
    assert args.max_replicas * args.num_cpus + args.ingress_replicas * args.ingress_num_cpus <= cpus
    assert args.ingress_replicas >= 2  # one ingress replica can die without an outage
