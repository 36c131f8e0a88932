"""alert-routing: every alert the stack defines reaches a person (stack-level).

- AWS: every CloudWatch MetricAlarm and CompositeAlarm has non-empty ``alarmActions`` and ``okActions``
  (and ``actionsEnabled`` is not false), each list with an action that reaches a person: an SNS topic
  (or an Incident Manager response plan). An SNS topic of the stack must have a subscriber: an
  ``aws.sns.TopicSubscription`` or an AWS Chatbot Slack/Teams channel configuration listing it in
  ``snsTopicArns``. ARNs of topics outside the stack count as routed. Auto Scaling, EC2 and other
  actions alone reach nobody.
- GCP: every Cloud Monitoring AlertPolicy has non-empty ``notificationChannels``; a channel of the
  stack must be an enabled ``gcp.monitoring.NotificationChannel``; other channels must be
  ``projects/*/notificationChannels/*`` names.
- Kubernetes: every alert of every PrometheusRule has a ``severity`` label, and an AlertmanagerConfig
  in the rule's namespace routes an alert with its labels to a receiver with a notifier
  (:mod:`mlops_infra.policy.facts.alertmanager`). A PrometheusRule whose alerts are routed by the
  cluster's own Alertmanager says so with the annotation ``mlops-infra/alerts-routed-externally: "true"``.

Values unknown during preview skip the check of that alarm/policy/rule with an advisory note; a
reference whose value is unknown is resolved through the resource's dependencies when it can be.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from mlops_infra.conventions.markers import ALERTS_ROUTED_EXTERNALLY_MARKER
from mlops_infra.policy.context import StackContext
from mlops_infra.policy.correlation import identifiers
from mlops_infra.policy.facts.alertmanager import routes_to_a_person
from mlops_infra.policy.model import Finding, ResourceView, StackView
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import UnknownValue, get, is_unknown, items, known

ID = "alert-routing"

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
SNS_TOPIC = "aws:sns/topic:Topic"
SNS_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
CHATBOT_SLACK = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
CHATBOT_TEAMS = "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
NOTIFICATION_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
ALERTMANAGER_CONFIG = "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig"

ALARM_ACTIONS = ("alarmActions", "okActions")
PERSON_ACTION = re.compile(r"^arn:aws[\w-]*:(sns|ssm-incidents):")
SNS_ARN = re.compile(r"^arn:aws[\w-]*:sns:[^:]*:[^:]*:(?P<name>[^:]+)$")
CHANNEL_NAME = re.compile(r"^projects/[^/]+/notificationChannels/[^/]+$")
SEVERITY = "severity"
SUBSCRIBE_HINT = (
    "Add an aws.sns.TopicSubscription (email, or the PagerDuty HTTPS endpoint) or an "
    "aws.chatbot.SlackChannelConfiguration listing the topic in snsTopicArns"
)


# --- AWS ---------------------------------------------------------------------------------------------


def _arn_names_topic(arn: str, topic: ResourceView) -> bool:
    if isinstance(topic.props.get("arn"), str) and topic.props["arn"] == arn:
        return True
    match = SNS_ARN.match(arn)
    return match is not None and match.group("name") in identifiers(topic, "name")


def _refers_to_topic(ref: ResourceView, value: Any, topic: ResourceView) -> bool:
    if is_unknown(value):
        return topic.urn in ref.dependencies
    return isinstance(value, str) and _arn_names_topic(value, topic)


def _subscribed(stack: StackView, topic: ResourceView) -> bool:
    for subscription in stack.by_type(SNS_SUBSCRIPTION):
        if _refers_to_topic(subscription, subscription.props.get("topic"), topic):
            return True
    for chatbot in stack.by_type(CHATBOT_SLACK, CHATBOT_TEAMS):
        arns = chatbot.props.get("snsTopicArns")
        if is_unknown(arns):
            if topic.urn in chatbot.dependencies:
                return True
            continue
        if any(_refers_to_topic(chatbot, arn, topic) for arn in items(arns, "snsTopicArns")):
            return True
    return False


def _alarm_label(alarm: ResourceView) -> str:
    name = alarm.props.get("name") or alarm.props.get("alarmName")
    return f"{alarm.kind} {(name if isinstance(name, str) and not is_unknown(name) else alarm.name)!r}"


def _action_topics(stack: StackView, alarm: ResourceView, action: Any, path: str) -> list[ResourceView] | None:
    """The stack's SNS topics an action names ([] for a person-reaching action outside the stack); None when
    the action reaches nobody by itself (Auto Scaling, EC2, ...)."""
    topics = stack.by_type(SNS_TOPIC)
    if is_unknown(action):
        targets = [t for t in topics if t.urn in alarm.dependencies]
        if not targets:
            raise UnknownValue(action, path)
        return targets
    if isinstance(action, str) and PERSON_ACTION.match(action):
        return [t for t in topics if _arn_names_topic(action, t)]
    return None


def _alarm_problems(stack: StackView, alarm: ResourceView) -> Iterator[str]:
    if alarm.props.get("actionsEnabled") is False:
        yield "actionsEnabled is false, so it notifies nobody. Remove actionsEnabled: false."
    silent_topics: list[str] = []
    for prop in ALARM_ACTIONS:
        actions = items(alarm.props.get(prop), prop)
        if not actions:
            yield (
                f"{prop} is empty, so nobody hears when it {'fires' if prop == 'alarmActions' else 'recovers'}. "
                f"Set {prop} to an SNS topic with a subscriber (mlops_infra.aws AlertTopic)."
            )
            continue
        reaches = False
        for index, action in enumerate(actions):
            targets = _action_topics(stack, alarm, action, f"{prop}[{index}]")
            if targets == []:
                reaches = True  # a topic or response plan outside the stack
            for topic in targets or []:
                if _subscribed(stack, topic):
                    reaches = True
                elif topic.name not in silent_topics:
                    silent_topics.append(topic.name)
        if not reaches:
            yield (
                f"no action of {prop} reaches a person (Auto Scaling, EC2 and topics without subscribers notify "
                f"nobody). Add an SNS topic with a subscriber to {prop}."
            )
    for name in silent_topics:
        yield f"its SNS topic {name!r} has no subscriber. {SUBSCRIBE_HINT}."


def _aws(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    for alarm in stack.by_type(METRIC_ALARM, COMPOSITE_ALARM):
        with ctx.unknowns(alarm.urn):
            for problem in list(_alarm_problems(stack, alarm)):
                yield Finding(f"{_alarm_label(alarm)}: {problem}", urn=alarm.urn, resource_type=alarm.type)


# --- GCP ---------------------------------------------------------------------------------------------


def _channel_problem(stack: StackView, policy: ResourceView, channel: Any, index: int) -> str | None:
    channels = stack.by_type(NOTIFICATION_CHANNEL)
    if is_unknown(channel):
        if any(c.urn in policy.dependencies for c in channels):
            return None
        raise UnknownValue(channel, f"notificationChannels[{index}]")
    if not isinstance(channel, str):
        return f"notificationChannels[{index}] is not a channel name. Use a NotificationChannel's id."
    for candidate in channels:
        ids = identifiers(candidate, "name", "id")
        if channel in ids or channel.rsplit("/", 1)[-1] in ids:
            if known(candidate.props.get("enabled"), "enabled") is False:
                return (
                    f"its NotificationChannel {candidate.name!r} is disabled (enabled: false), so it notifies "
                    "nobody. Enable it."
                )
            return None
    if CHANNEL_NAME.match(channel):
        return None  # a channel managed outside the stack
    return (
        f"notificationChannels[{index}] {channel!r} is neither a NotificationChannel of the stack nor a "
        "projects/*/notificationChannels/* name. Use a gcp.monitoring.NotificationChannel's id."
    )


def _gcp(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    for policy in stack.by_type(ALERT_POLICY):
        display = policy.props.get("displayName")
        shown = display if isinstance(display, str) and not is_unknown(display) else policy.name
        label = f"AlertPolicy {shown!r}"
        with ctx.unknowns(policy.urn):
            channels = items(policy.props.get("notificationChannels"), "notificationChannels")
            problems: list[str] = []
            if not channels:
                problems.append(
                    "notificationChannels is empty, so nobody hears when it fires. Add "
                    "gcp.monitoring.NotificationChannel resources (pagerduty, slack or email) and list their ids "
                    "in notificationChannels."
                )
            for index, channel in enumerate(channels):
                problem = _channel_problem(stack, policy, channel, index)
                if problem:
                    problems.append(problem)
            for problem in problems:
                yield Finding(f"{label}: {problem}", urn=policy.urn, resource_type=policy.type)


# --- Kubernetes --------------------------------------------------------------------------------------


def _routed_externally(rule: ResourceView) -> bool:
    try:
        maps = [rule.annotations(), rule.label_map()]
    except UnknownValue:
        return False
    return any(str(m.get(ALERTS_ROUTED_EXTERNALLY_MARKER, "")).lower() == "true" for m in maps)


def _alerts(rule: ResourceView) -> list[tuple[str, dict[str, str]]]:
    """(alert name, static labels) of every alerting rule of the PrometheusRule."""
    found = []
    for group in items(get(rule.props, "spec.groups"), "spec.groups"):
        rules = group.get("rules") if isinstance(group, Mapping) else None
        for entry in items(rules, "spec.groups[].rules"):
            if not isinstance(entry, Mapping):
                continue
            name = known(entry.get("alert"), "spec.groups[].rules[].alert")
            if not isinstance(name, str) or not name:
                continue
            labels = known(entry.get("labels"), f"alert {name} labels")
            static = (
                {str(k): str(known(v, f"alert {name} labels.{k}")) for k, v in labels.items()}
                if isinstance(labels, Mapping)
                else {}
            )
            found.append((name, static))
    return found


def _rule_problems(stack: StackView, rule: ResourceView) -> Iterator[str]:
    alerts = _alerts(rule)
    if not alerts:
        return
    unlabelled = sorted({name for name, labels in alerts if not labels.get(SEVERITY)})
    if unlabelled:
        yield (
            f"alerts {', '.join(unlabelled)} have no severity label, so no severity route takes them. Set "
            'labels.severity ("critical" pages, "warning" goes to chat) on each.'
        )
    if _routed_externally(rule):
        return
    namespace = rule.k8s_namespace()
    configs = [c for c in stack.by_type(ALERTMANAGER_CONFIG) if c.k8s_namespace() == namespace]
    hint = (
        "or, if the cluster's own Alertmanager routes them, annotate the PrometheusRule "
        f'{ALERTS_ROUTED_EXTERNALLY_MARKER}: "true"'
    )
    if not configs:
        yield (
            f"no AlertmanagerConfig in namespace {namespace or 'default'!r} routes its alerts "
            f"({', '.join(sorted({name for name, _ in alerts}))}), so they reach nobody. Add an AlertmanagerConfig "
            "(monitoring.coreos.com/v1alpha1) whose route sends each severity to a receiver with emailConfigs, "
            f"pagerdutyConfigs or slackConfigs (mlops_infra.k8s AlertRouting does), {hint}."
        )
        return
    unrouted = sorted(
        {
            f"{name} (severity {labels.get(SEVERITY) or 'none'})"
            for name, labels in alerts
            if not any(routes_to_a_person(c.props.get("spec"), labels) for c in configs)
        }
    )
    if unrouted:
        yield (
            f"alerts {', '.join(unrouted)} reach no receiver with a notifier in the AlertmanagerConfig of namespace "
            f"{namespace or 'default'!r}. Add a route matching their severity (route.routes[].matchers) to a "
            f"receiver with emailConfigs, pagerdutyConfigs or slackConfigs, {hint}."
        )


def _k8s(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    for rule in stack.by_type(PROMETHEUS_RULE):
        with ctx.unknowns(rule.urn):
            for problem in list(_rule_problems(stack, rule)):
                yield Finding(f"PrometheusRule {rule.k8s_name()!r}: {problem}", urn=rule.urn, resource_type=rule.type)


def alert_routing(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """alert-routing: every alarm, alert policy and PrometheusRule alert has a route to a person."""
    yield from _aws(stack, ctx)
    yield from _gcp(stack, ctx)
    yield from _k8s(stack, ctx)


SPEC = PolicySpec(
    id=ID,
    title="Every alert reaches a person",
    description=(
        "CloudWatch alarms have alarm and OK actions on SNS topics with subscribers (or AWS Chatbot); Cloud "
        "Monitoring alert policies have notification channels; every PrometheusRule alert has a severity and an "
        "AlertmanagerConfig in its namespace routes it to a receiver with a notifier."
    ),
    remediation=(
        "Use the platform's alert routing (AlertTopic, NotificationChannels, AlertRouting from the spec's alerts "
        "section) or add the subscriptions, channels and routes named."
    ),
    resource_types={
        "aws": (METRIC_ALARM, COMPOSITE_ALARM, SNS_TOPIC, SNS_SUBSCRIPTION, CHATBOT_SLACK),
        "gcp": (ALERT_POLICY, NOTIFICATION_CHANNEL),
        "kubernetes": (PROMETHEUS_RULE, ALERTMANAGER_CONFIG),
    },
    stack_check=alert_routing,
)
