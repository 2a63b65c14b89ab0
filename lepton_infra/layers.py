"""The two layers' contract: what a cloud layer exports, and how a Kubernetes layer reads it back.

A cloud layer exports, beside its `kubeconfigs` (a secret, one kubeconfig per site), `cluster_facts`:

```
{"format": 1, "sites": {"<site>": {"spec": <the site's spec>, "facts": <ClusterFacts without kubeconfig>}}}
```

A Kubernetes layer reads both through one ``pulumi.StackReference`` and rebuilds each site's facts. Under
`pulumi preview` and `up` a stack reference's outputs are known values (the engine reads the referenced
stack's state), so the Kubernetes layer is built from them in an ``apply`` and shows in full in a preview
and to the policy packs; the offline plan serves them from the cloud layer's own offline plan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi

from lepton_infra.blueprint import ExistingSiteSpec, PlatformSpec, SiteSpec
from lepton_infra.blueprint.deployment import Layer
from lepton_infra.components.facts import FACTS_FORMAT, facts_data, facts_from_data, to_data, whole_numbers
from lepton_infra.components.handle import ClusterFacts

KUBECONFIGS_OUTPUT = "kubeconfigs"
FACTS_OUTPUT = "cluster_facts"


def cloud_layer_facts(sites: Mapping[str, tuple[SiteSpec, ClusterFacts]]) -> dict[str, Any]:
    """The `cluster_facts` output of a cloud layer: each site's spec (to tell drift) and its facts."""
    return {
        "format": FACTS_FORMAT,
        "sites": {
            name: {"spec": spec_data(spec), "facts": facts_data(facts)}
            for name, (spec, facts) in sites.items()
        },
    }


def spec_data(site: SiteSpec) -> dict[str, Any]:
    """The site's spec as the user wrote it (defaults left out), comparable across stack files."""
    data: dict[str, Any] = json.loads(site.model_dump_json(exclude_defaults=True))
    return data


def access_record(spec: PlatformSpec, site: SiteSpec, facts: ClusterFacts) -> dict[str, Any]:
    """How this stack's `pulumi up` reaches ``site``'s cluster API, for the record (SiteWorkloads' inputs).

    ``{"layer": "all" | "kubernetes", "cloudStack": "<org>/<project>/<stack>" | None,
    "endpoint": {"public": bool, "allowlist": [CIDR, ...]} | None (an existing cluster: not known),
    "runner": {"location": "in-network" | "allowlisted", "cidrs": [CIDR, ...]} | None (not declared)}``
    """
    runner = None if isinstance(site, ExistingSiteSpec) else site.kubernetes_runner
    referenced = spec.deployment.layer is Layer.KUBERNETES and not isinstance(site, ExistingSiteSpec)
    return {
        "layer": spec.deployment.layer.value,
        "cloudStack": spec.deployment.cloud_stack if referenced else None,
        "endpoint": to_data(facts.api_endpoint),
        "runner": None if runner is None else json.loads(runner.model_dump_json()),
    }


class ReferencedSite(pulumi.ComponentResource):
    """A site whose cloud layer another stack deployed: the parent of its Kubernetes provider here.

    ``facts`` are the site's facts as that stack exported them, with its kubeconfig (a secret) read apart.
    A facts format this version cannot read, or a site the cloud layer does not have, stops the update
    with what to do; a site spec that differs from the one the cloud layer was deployed with is a warning
    (the Kubernetes layer validated against its own copy of it).
    """

    facts: pulumi.Output[ClusterFacts]

    def __init__(
        self,
        name: str,
        site: SiteSpec,
        reference: pulumi.StackReference,
        cloud_stack: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "lepton:index:ReferencedSite", name, {"site": site.name, "cloudStack": cloud_stack}, opts
        )
        kubeconfig: pulumi.Output[str] = reference.require_output(KUBECONFIGS_OUTPUT).apply(
            lambda configs: _site_entry(configs, site.name, cloud_stack, KUBECONFIGS_OUTPUT)
        )
        self.facts = reference.require_output(FACTS_OUTPUT).apply(
            lambda exported: self._read(exported, site, cloud_stack, kubeconfig)
        )
        self.register_outputs({})

    def _read(
        self, exported: Any, site: SiteSpec, cloud_stack: str, kubeconfig: pulumi.Output[str]
    ) -> ClusterFacts:
        found = whole_numbers(exported.get("format")) if isinstance(exported, Mapping) else None
        if found != FACTS_FORMAT:
            raise pulumi.RunError(
                f"cloud stack {cloud_stack!r} exported cluster facts in format {found}, and this version of "
                f"lepton-infra reads format {FACTS_FORMAT}: run `pulumi up` on the cloud stack with this "
                "version first"
            )
        entry = _site_entry(exported["sites"], site.name, cloud_stack, FACTS_OUTPUT)
        theirs, ours = whole_numbers(entry["spec"]), spec_data(site)
        drift = sorted(key for key in {*theirs, *ours} if theirs.get(key) != ours.get(key))
        if drift:
            pulumi.log.warn(
                f"site {site.name!r} differs from the one cloud stack {cloud_stack!r} was deployed with "
                f"({', '.join(drift)}): keep `sites` the same in both stack files, and run the cloud "
                "layer's `pulumi up` first when you change one",
                resource=self,
            )
        return facts_from_data(entry["facts"], kubeconfig)


def _site_entry(outputs: Any, site: str, cloud_stack: str, output: str) -> Any:
    if not isinstance(outputs, Mapping) or site not in outputs:
        present = ", ".join(sorted(outputs)) if isinstance(outputs, Mapping) else "none"
        raise pulumi.RunError(
            f"cloud stack {cloud_stack!r} has no site {site!r} in its {output!r} output (sites: {present}): "
            "add the site to that stack's file and run its `pulumi up` first"
        )
    return outputs[site]
