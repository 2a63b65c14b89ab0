"""Which buckets of a stack receive other buckets' access logs: the facts the S3 and OSS rules judge a log
bucket by, built once per stack.

A log bucket cannot be held to every rule of a data bucket. Both clouds say a target should not log its
own access (S3: "Your target bucket should not have server access logging enabled"; OSS: logging a bucket
into itself "causes a logging loop"), and S3 does not deliver to a target whose default encryption is
SSE-KMS (Amazon S3 user guide, Enabling server access logging). Who counts as a log bucket is therefore
decided here, narrowly, so the exemption cannot be had by naming a bucket as its own target.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lepton_infra.policies.joins import Owners
from lepton_infra.policies.values import is_unknown, read
from lepton_infra.policies.view import Stack


@dataclass(frozen=True)
class LogTargets:
    """The stack's logging configurations, resolved to the buckets they join (by URN)."""

    targets: frozenset[str]
    """Buckets some *other* bucket's logging delivers to."""
    sources: frozenset[str]
    """Buckets whose own logging names a target (themselves included)."""
    into_itself: frozenset[str]
    """Buckets whose logging names the bucket itself as the target."""
    target_of: Mapping[str, str]
    """Each source bucket's target, where that is another bucket of the stack."""
    unresolved: tuple[str, ...]
    """Logging configurations whose target the plan does not show (unknown, or a secret), by name: while
    any is left, a bucket without logging may be the target it names."""

    def is_log_bucket(self, urn: str) -> bool:
        """A bucket that receives another bucket's logs and logs nowhere itself: a dedicated log bucket.

        One that also logs elsewhere is a data bucket that others deliver to, and is judged as one."""
        return urn in self.targets and urn not in self.sources

    def undecided(self, urn: str) -> str | None:
        """Why it can't be told whether ``urn`` is a log bucket (a target the plan does not show, and the
        bucket logs nowhere itself), or None when it can."""
        if not self.unresolved or urn in self.sources or urn in self.targets:
            return None
        return (
            f"whether it is a log target can't be known: the target of {', '.join(self.unresolved)} is not "
            "shown"
        )


def log_targets(
    stack: Stack,
    bucket_types: Iterable[str],
    logging_types: Iterable[str],
) -> LogTargets:
    """The log targets among ``bucket_types`` named by the ``logging_types`` resources of ``stack``.

    A logging configuration's ``bucket`` is its source and ``targetBucket`` its target; the target is
    joined by property dependency or by value only, never as "the one bucket it depends on", which is the
    source when the target lies outside the stack."""
    owners = Owners([b for b in stack.of_type(*bucket_types) if b.custom])
    targets: set[str] = set()
    sources: set[str] = set()
    into_itself: set[str] = set()
    target_of: dict[str, str] = {}
    unresolved: list[str] = []
    for part in stack.of_type(*logging_types):
        source = owners.referenced(part, "bucket")
        target = owners.referenced(part, "targetBucket", among_dependencies=False)
        if source is not None:
            sources.add(source.urn)
        if target is None:
            if is_unknown(read(part.props, "targetBucket")):
                unresolved.append(part.name)
            continue
        if source is not None and source.urn == target.urn:
            into_itself.add(target.urn)
        else:
            targets.add(target.urn)
            if source is not None:
                target_of[source.urn] = target.urn
    return LogTargets(
        targets=frozenset(targets),
        sources=frozenset(sources),
        into_itself=frozenset(into_itself),
        target_of=target_of,
        unresolved=tuple(unresolved),
    )
