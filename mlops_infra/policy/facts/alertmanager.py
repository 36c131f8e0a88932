"""Alertmanager routing as prometheus-operator reads it: which receivers an alert with given labels reaches.

An ``AlertmanagerConfig`` (``monitoring.coreos.com/v1alpha1``) holds a route tree and receivers. An alert
enters at the root route when the root's matchers accept its labels; a matching child route takes it (the
first one, and the next ones while ``continue`` is true); a route no child takes delivers it to its own
receiver (inherited from the parent when unset). Matchers are ``{name, value, matchType}`` with ``=``, ``!=``,
``=~``, ``!~`` (the older ``regex: true`` means ``=~``); a label the alert does not carry has the value "".

The operator adds ``namespace=<config namespace>`` to the root route itself; statically an alert's
namespace usually comes from its series, so a ``namespace`` matcher is taken to accept an alert that
carries no static ``namespace`` label (and one whose static label equals the value).

A receiver reaches a person when it has at least one notifier: any non-empty ``*Configs`` list
(emailConfigs, pagerdutyConfigs, slackConfigs, webhookConfigs, opsgenieConfigs, msteamsConfigs, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlops_infra.policy.values import get, items, known

NAMESPACE_LABEL = "namespace"
_MAX_DEPTH = 32


def _matcher_accepts(matcher: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    name = str(known(matcher.get("name"), "matchers[].name") or "")
    value = str(known(matcher.get("value"), "matchers[].value") or "")
    match_type = known(matcher.get("matchType"), "matchers[].matchType")
    if match_type is None:
        match_type = "=~" if matcher.get("regex") is True else "="
    if name == NAMESPACE_LABEL and NAMESPACE_LABEL not in labels:
        return True
    actual = labels.get(name, "")
    if match_type in ("=", "!="):
        return bool((actual == value) == (match_type == "="))
    if match_type in ("=~", "!~"):
        try:
            found = re.fullmatch(value, actual) is not None
        except re.error:
            return False
        return bool(found == (match_type == "=~"))
    return False


def _accepts(route: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    matchers = items(route.get("matchers"), "route.matchers")
    return all(isinstance(m, Mapping) and _matcher_accepts(m, labels) for m in matchers)


def delivered(route: Any, labels: Mapping[str, str], inherited: str | None = None, depth: int = 0) -> list[str] | None:
    """The receiver names an alert with ``labels`` reaches from ``route``; None when the route does not take it."""
    if not isinstance(route, Mapping) or depth > _MAX_DEPTH or not _accepts(route, labels):
        return None
    receiver = known(route.get("receiver"), "route.receiver") or inherited
    receivers: list[str] = []
    taken = False
    for child in items(route.get("routes"), "route.routes"):
        reached = delivered(child, labels, receiver, depth + 1)
        if reached is None:
            continue
        taken = True
        receivers += reached
        if not (isinstance(child, Mapping) and child.get("continue") is True):
            break
    if not taken and isinstance(receiver, str) and receiver:
        receivers.append(receiver)
    return receivers


def notifying_receivers(spec: Any) -> set[str]:
    """Names of the config's receivers with at least one notifier (a non-empty ``*Configs`` list)."""
    names = set()
    for receiver in items(get(spec, "receivers"), "spec.receivers"):
        if not isinstance(receiver, Mapping):
            continue
        notifiers = [
            key
            for key, value in receiver.items()
            if str(key).endswith("Configs") and items(known(value, f"receivers.{key}"), f"receivers.{key}")
        ]
        name = known(receiver.get("name"), "receivers[].name")
        if notifiers and isinstance(name, str):
            names.add(name)
    return names


def routes_to_a_person(spec: Any, labels: Mapping[str, str]) -> bool:
    """True when the config's route tree delivers an alert with ``labels`` to a receiver with a notifier."""
    reached = delivered(get(spec, "route"), labels)
    return bool(reached) and bool(set(reached or ()) & notifying_receivers(spec))
