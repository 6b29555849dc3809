"""A small kustomize renderer: exactly the features deploy/k8s uses, and an error for anything else.

The test command has no `kustomize` binary and cannot download one, so the tests render the
overlays with this instead. It supports, with kustomize v5's semantics:

- `resources`: YAML files (several documents each) and directories holding a kustomization,
  built recursively, each directory's transformations applied before its parent's;
- `patches`: strategic-merge patches (`path:` or inline `patch:`) that name their target by
  apiVersion/kind/metadata.name, including `$patch: delete` of a whole object and `null` to
  delete a field; and JSON 6902 patches (`add`, `remove`, `replace`) with a `target` of
  group/version/kind/name;
- `namespace`, `labels` (with `includeSelectors: false`) and `images` (`newName`, `newTag`,
  `digest`).

Everything else (generators, `commonLabels`, name prefixes, replacements, components, remote
resources, label selection in `includeSelectors`, and the merge-keyed lists listed in
`_UNSUPPORTED_MERGE_LISTS`) raises `KustomizeError` rather than rendering something kustomize
would not. Where `kubectl kustomize` is on PATH, tests/deploy/test_manifests.py checks that both
renderers produce the same objects. Output order is the order resources were listed in (kustomize
sorts by kind; nothing here depends on order).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]

# libyaml's loader when PyYAML has it (same results, several times faster)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

_SUPPORTED_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "patches",
    "namespace",
    "labels",
    "images",
}

# Kinds that live outside namespaces: the namespace transformer leaves them alone.
_CLUSTER_SCOPED = {
    "APIService",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "CSIDriver",
    "CustomResourceDefinition",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "RuntimeClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
}

# Kinds whose pod template (spec.template) gets the labels of `includeTemplates: true`.
_TEMPLATED_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

# Lists that strategic merge patches merge item by item, and the key that identifies an item.
# Every other list is replaced whole, which is Kubernetes' rule for lists without a patch
# strategy (Ingress rules, args, tolerations, HPA metrics...).
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
}
# Merge-keyed lists this renderer does not implement: a patch that touches one is an error.
_UNSUPPORTED_MERGE_LISTS = {
    "finalizers",
    "hostAliases",
    "ownerReferences",
    "resourceClaims",
    "topologySpreadConstraints",
    "volumeDevices",
}


class KustomizeError(Exception):
    """The kustomization uses something this renderer does not support, or is invalid."""


def build(directory: Path | str) -> list[Resource]:
    """Render the kustomization in `directory`, like `kustomize build directory`."""
    root = Path(directory)
    kustomization = _load_kustomization(root)
    resources: list[Resource] = []
    for entry in kustomization.get("resources") or []:
        resources.extend(_load_resource(root, entry))
    _check_unique(resources)
    # kustomize's builtin transformer order: patches, namespace, labels, images.
    for patch in kustomization.get("patches") or []:
        resources = _apply_patch(root, patch, resources)
    namespace = kustomization.get("namespace")
    if namespace:
        _set_namespace(resources, str(namespace))
    for label_set in kustomization.get("labels") or []:
        _add_labels(resources, label_set)
    for image in kustomization.get("images") or []:
        _set_image(resources, image)
    return resources


def resource_id(resource: Resource) -> tuple[str, str, str, str]:
    metadata = resource.get("metadata") or {}
    return (
        str(resource.get("apiVersion", "")),
        str(resource.get("kind", "")),
        str(metadata.get("namespace", "")),
        str(metadata.get("name", "")),
    )


# -- loading -------------------------------------------------------------------------------------


def _load_kustomization(root: Path) -> dict[str, Any]:
    for name in KUSTOMIZATION_FILES:
        path = root / name
        if path.is_file():
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
            if not isinstance(data, dict):
                raise KustomizeError(f"{path}: not a mapping")
            unsupported = set(data) - _SUPPORTED_FIELDS
            if unsupported:
                raise KustomizeError(f"{path}: unsupported fields {sorted(unsupported)}")
            if data.get("kind", "Kustomization") != "Kustomization":
                raise KustomizeError(f"{path}: kind must be Kustomization")
            return data
    raise KustomizeError(f"no kustomization file in {root}")


def _load_resource(root: Path, entry: str) -> list[Resource]:
    if "://" in entry or entry.startswith("git@"):
        raise KustomizeError(f"remote resources are not supported: {entry}")
    path = (root / entry).resolve()
    if path.is_dir():
        return build(path)
    if not path.is_file():
        raise KustomizeError(f"{root}: resource {entry} does not exist")
    return load_documents(path)


def load_documents(path: Path) -> list[Resource]:
    text = path.read_text(encoding="utf-8")
    documents = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    for document in documents:
        if not isinstance(document, dict) or "kind" not in document:
            raise KustomizeError(f"{path}: every document must be an object with a kind")
    return documents


def _check_unique(resources: Iterable[Resource]) -> None:
    seen: set[tuple[str, str, str, str]] = set()
    for resource in resources:
        key = resource_id(resource)
        if key in seen:
            raise KustomizeError(f"duplicate resource {key}")
        seen.add(key)


# -- patches -------------------------------------------------------------------------------------


def _apply_patch(root: Path, spec: dict[str, Any], resources: list[Resource]) -> list[Resource]:
    unknown = set(spec) - {"path", "patch", "target"}
    if unknown or ("path" in spec) == ("patch" in spec):
        raise KustomizeError(f"{root}: a patch needs exactly one of path/patch: {spec}")
    text = (
        (root / spec["path"]).read_text(encoding="utf-8") if "path" in spec else str(spec["patch"])
    )
    documents = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    if len(documents) == 1 and isinstance(documents[0], list):
        target = spec.get("target")
        if not isinstance(target, dict):
            raise KustomizeError(f"{root}: a JSON 6902 patch needs a target")
        matches = [r for r in resources if _matches_target(r, target)]
        if not matches:
            raise KustomizeError(f"{root}: no resource matches patch target {target}")
        for resource in matches:
            _json6902(resource, documents[0])
        return resources
    if "target" in spec:
        raise KustomizeError(f"{root}: strategic-merge patches with a target are not supported")
    for document in documents:
        if not isinstance(document, dict):
            raise KustomizeError(f"{root}: a strategic-merge patch must be an object")
        resources = _strategic_patch(root, document, resources)
    return resources


def _matches_target(resource: Resource, target: dict[str, Any]) -> bool:
    unsupported = set(target) - {"group", "version", "kind", "name"}
    if unsupported:
        raise KustomizeError(f"unsupported patch target fields {sorted(unsupported)}")
    api_version = str(resource.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    checks = {
        "group": group,
        "version": version,
        "kind": resource.get("kind"),
        "name": (resource.get("metadata") or {}).get("name"),
    }
    return all(target[field] == checks[field] for field in target)


def _strategic_patch(
    root: Path, patch: dict[str, Any], resources: list[Resource]
) -> list[Resource]:
    patch = dict(patch)
    directive = patch.pop("$patch", None)
    name = (patch.get("metadata") or {}).get("name")
    matches = [
        i
        for i, r in enumerate(resources)
        if r.get("apiVersion") == patch.get("apiVersion")
        and r.get("kind") == patch.get("kind")
        and (r.get("metadata") or {}).get("name") == name
    ]
    if len(matches) != 1:
        raise KustomizeError(
            f"{root}: patch {patch.get('kind')}/{name} matches {len(matches)} resources, not one"
        )
    index = matches[0]
    if directive == "delete":
        return resources[:index] + resources[index + 1 :]
    if directive is not None:
        raise KustomizeError(f"{root}: unsupported $patch directive {directive!r}")
    resources[index] = strategic_merge(resources[index], patch)
    return resources


def strategic_merge(base: Any, patch: Any, field: str | None = None) -> Any:
    """Kubernetes' strategic merge for the subset above: maps merge, null deletes, keyed lists
    merge item by item (new items first, as kustomize writes them), other lists are replaced."""
    if isinstance(patch, dict):
        if "$patch" in patch:
            raise KustomizeError(f"unsupported $patch directive inside {field}")
        if not isinstance(base, dict):
            return _without_nulls(patch)
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = strategic_merge(merged[key], value, key)
            else:
                merged[key] = _without_nulls(value)
        return merged
    if isinstance(patch, list):
        if field in _UNSUPPORTED_MERGE_LISTS:
            raise KustomizeError(f"patching the merge-keyed list {field!r} is not supported")
        key = _merge_key(field, base, patch)
        if key is None or not isinstance(base, list):
            return _without_nulls(patch)
        return _merge_keyed_lists(base, patch, key, field)
    return patch


def _merge_key(field: str | None, base: Any, patch: list[Any]) -> str | None:
    if field == "ports":
        items = [
            i for i in [*(base if isinstance(base, list) else []), *patch] if isinstance(i, dict)
        ]
        return "containerPort" if any("containerPort" in i for i in items) else "port"
    return _MERGE_KEYS.get(field or "")


def _merge_keyed_lists(base: list[Any], patch: list[Any], key: str, field: str | None) -> list[Any]:
    merged = [copy.deepcopy(item) for item in base]
    added: list[Any] = []
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise KustomizeError(f"every item patched into {field!r} needs its {key!r}")
        position = next(
            (i for i, existing in enumerate(merged) if existing.get(key) == item[key]), None
        )
        if item.get("$patch") == "delete":
            if position is not None:
                del merged[position]
            continue
        if position is None:
            added.append(_without_nulls(item))
        else:
            merged[position] = strategic_merge(merged[position], item, field)
    return added + merged


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        if "$patch" in value:
            raise KustomizeError("unsupported $patch directive in new content")
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _json6902(resource: Resource, operations: list[Any]) -> None:
    for operation in operations:
        if not isinstance(operation, dict):
            raise KustomizeError(f"not a JSON patch operation: {operation!r}")
        op, path = operation.get("op"), str(operation.get("path", ""))
        if op not in {"add", "remove", "replace"}:
            raise KustomizeError(f"unsupported JSON patch operation {op!r}")
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]
        if not tokens:
            raise KustomizeError("a JSON patch cannot replace the whole document")
        parent: Any = resource
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        last = tokens[-1]
        try:
            if isinstance(parent, list):
                if op == "add":
                    position = len(parent) if last == "-" else int(last)
                    parent.insert(position, copy.deepcopy(operation["value"]))
                elif op == "remove":
                    del parent[int(last)]
                else:
                    parent[int(last)] = copy.deepcopy(operation["value"])
            elif op == "add":
                parent[last] = copy.deepcopy(operation["value"])
            elif op == "remove":
                del parent[last]
            else:
                if last not in parent:
                    raise KeyError(last)
                parent[last] = copy.deepcopy(operation["value"])
        except (KeyError, IndexError, ValueError) as exc:
            raise KustomizeError(f"JSON patch {op} {path} failed: {exc!r}") from None


# -- transformers --------------------------------------------------------------------------------


def _set_namespace(resources: list[Resource], namespace: str) -> None:
    for resource in resources:
        kind = resource.get("kind", "")
        if kind in {"RoleBinding", "ClusterRoleBinding"}:
            raise KustomizeError("namespacing role bindings' subjects is not supported")
        if kind not in _CLUSTER_SCOPED:
            resource.setdefault("metadata", {})["namespace"] = namespace


def _add_labels(resources: list[Resource], label_set: dict[str, Any]) -> None:
    unknown = set(label_set) - {"pairs", "includeSelectors", "includeTemplates"}
    if unknown:
        raise KustomizeError(f"unsupported labels fields {sorted(unknown)}")
    if label_set.get("includeSelectors"):
        raise KustomizeError("labels with includeSelectors: true are not supported")
    pairs = {str(k): str(v) for k, v in (label_set.get("pairs") or {}).items()}
    for resource in resources:
        resource.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        if label_set.get("includeTemplates") and resource.get("kind") in _TEMPLATED_KINDS:
            template = resource.get("spec", {}).get("template")
            if isinstance(template, dict):
                template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        elif label_set.get("includeTemplates") and resource.get("kind") == "CronJob":
            raise KustomizeError("template labels on CronJobs are not supported")


_IMAGE = re.compile(r"^(?P<name>[^@]+?)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>.+))?$")


def _set_image(resources: list[Resource], image: dict[str, Any]) -> None:
    unknown = set(image) - {"name", "newName", "newTag", "digest"}
    if unknown:
        raise KustomizeError(f"unsupported images fields {sorted(unknown)}")
    for resource in resources:
        for container in _containers(resource):
            match = _IMAGE.match(str(container.get("image", "")))
            if not match or match["name"] != image["name"]:
                continue
            name = str(image.get("newName") or match["name"])
            if image.get("digest"):
                container["image"] = f"{name}@{image['digest']}"
            elif image.get("newTag"):
                container["image"] = f"{name}:{image['newTag']}"
            else:
                tag = f":{match['tag']}" if match["tag"] else ""
                digest = f"@{match['digest']}" if match["digest"] else ""
                container["image"] = f"{name}{tag}{digest}"


def _containers(node: Any) -> Iterable[dict[str, Any]]:
    """Every container of every pod spec in the object, wherever it is nested."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"containers", "initContainers"} and isinstance(value, list):
                yield from (c for c in value if isinstance(c, dict))
            else:
                yield from _containers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _containers(value)
