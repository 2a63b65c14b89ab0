"""Which fields of the platform config are scanned for secrets, and the sentence a user gets.

The fields that take free text a person might paste a credential into: the platform's tags, an existing
cluster's artifact_env, service_account_annotations and kubeconfig path, a workload's arguments
(trainer_args, a training container's args, a server's args and extra_args) and environment (env).
Each finding names the field (never the value) and the fix. ``not_secrets`` lists the field paths the
user vouches for; an entry that names no scanned value is refused too, so the list cannot go stale.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from lepton_infra.blueprint.secret_scan import looks_like_kubeconfig, why_secret
from lepton_infra.blueprint.site_existing import ExistingSiteSpec
from lepton_infra.blueprint.workloads import TrainingWorkloadSpec

if TYPE_CHECKING:
    from lepton_infra.blueprint.platform import PlatformSpec

Issue = tuple[str, str]
FIX = (
    "plain config is written in clear to the plan JSON, the manifests and the state: keep it in secret "
    "config (`pulumi config set --secret <key> <value>`), or use the workload's cloud identity; if it is no "
    "secret, add {path!r} to not_secrets"
)

KUBECONFIG_CONTENT = (
    "this is a kubeconfig's content, not a path: keep it in secret config (`pulumi config set --secret "
    "kubeconfig < FILE`) and name that key in kubeconfig.secret_config_key"
)


def scanned_values(spec: PlatformSpec) -> Iterator[tuple[str, str, str | None, str]]:
    """(override path, issue path, name it is written under, value) of every scanned value."""
    yield from _mapping("tags", spec.tags)
    for i, site in enumerate(spec.sites):
        if isinstance(site, ExistingSiteSpec):
            yield from _mapping(f"sites[{i}].artifact_env", site.artifact_env)
            yield from _mapping(f"sites[{i}].service_account_annotations", site.service_account_annotations)
            if site.kubeconfig.path is not None:
                path = f"sites[{i}].kubeconfig.path"
                yield path, path, None, site.kubeconfig.path
    for i, workload in enumerate(spec.workloads):
        # A training job's own container, or a server's (vLLM, custom): their arguments and environment.
        holders: list[tuple[str, object]] = [(f"workloads[{i}]", workload)]
        if not isinstance(workload, TrainingWorkloadSpec):
            holders.append((f"workloads[{i}].server", getattr(workload, "server", None)))
        for prefix, holder in holders:
            for field in ("trainer_args", "args", "extra_args"):
                if arguments := getattr(holder, field, None):
                    yield from _arguments(f"{prefix}.{field}", arguments)
            if env := getattr(holder, "env", None):
                yield from _mapping(f"{prefix}.env", env)


def _mapping(path: str, values: Mapping[str, str]) -> Iterator[tuple[str, str, str | None, str]]:
    for key, value in values.items():
        yield f"{path}.{key}", path, key, value
        yield f"{path}.{key}", path, None, key  # a credential pasted as a key


def _arguments(path: str, args: Sequence[str]) -> Iterator[tuple[str, str, str | None, str]]:
    flag: str | None = None
    for j, arg in enumerate(args):
        name, equals, value = arg.partition("=")
        if arg.startswith("-") and equals:
            yield f"{path}[{j}]", f"{path}[{j}]", name, value
        else:
            yield f"{path}[{j}]", f"{path}[{j}]", flag, arg
        flag = arg if arg.startswith("-") and not equals else None


def secret_rules(spec: PlatformSpec) -> list[Issue]:
    issues: list[Issue] = []
    vouched = set(spec.not_secrets)
    scanned: set[str] = set()
    for override, path, name, value in scanned_values(spec):
        scanned.add(override)
        if override in vouched:
            continue
        if path.endswith("kubeconfig.path") and looks_like_kubeconfig(value):
            issues.append((path, KUBECONFIG_CONTENT))
            continue
        if reason := why_secret(name, value):
            issues.append((path, f"{override} looks like a secret ({reason}): {FIX.format(path=override)}"))
    for k, entry in enumerate(spec.not_secrets):
        if entry not in scanned:
            issues.append((f"not_secrets[{k}]", f"{entry!r} names no value the secret scan reads"))
    return issues
