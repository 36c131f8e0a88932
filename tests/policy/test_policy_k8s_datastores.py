"""encryption-in-transit on Redis and PostgreSQL pods: how they are recognized, what is flagged, what passes."""

from __future__ import annotations

from typing import Any

import pytest
from policy_factories import check, check_stack, findings, view

from mlops_infra.policy.facts.k8s_datastores import hba_gaps, image_name, postgres_settings, redis_options
from mlops_infra.policy.values import UNKNOWN_STRING

ID = "encryption-in-transit"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
TLS_REDIS = ["redis-server", "/etc/redis/redis.conf", "--port", "0", "--tls-port", "6379", "--tls-cert-file", "/t/c"]
TLS_POSTGRES = ["postgres", "-c", "ssl=on", "-c", "hba_file=/etc/pg/pg_hba.conf"]


def workload(container: dict[str, Any], volumes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [container], "volumes": volumes or []}}}}


def messages(container: dict[str, Any]) -> list[str]:
    return [v.message for v in findings(check(ID, view(STATEFUL_SET, workload(container))))]


@pytest.mark.parametrize(
    ("image", "name"),
    [
        ("redis:7.2.5", "redis"),
        ("docker.io/library/redis@sha256:" + "a" * 64, "redis"),
        ("registry.example.com/mirror/postgres:16.4", "postgres"),
        ("bitnami/postgresql:16", "postgresql"),
    ],
)
def test_image_name_is_the_repository_without_registry_tag_or_digest(image: str, name: str) -> None:
    assert image_name(image) == name


@pytest.mark.parametrize(
    ("container", "needles"),
    [
        ({"name": "r", "image": "redis:7.2.5"}, ["serves no TLS", "default port 6379"]),
        ({"name": "r", "image": "valkey/valkey:8.0", "args": ["--tls-port", "6379"]}, ["default port 6379"]),
        ({"name": "r", "image": "redis:7.2.5", "args": ["--port=6380", "--tls-port=6379"]}, ["--port 6380"]),
        (
            {"name": "r", "image": "acme/cache:1", "command": ["redis-server", "--port", "6379"]},
            ["no TLS", "--port 6379"],
        ),
        ({"name": "p", "image": "postgres:16.4"}, ["without ssl=on", "pg_hba.conf"]),
        ({"name": "p", "image": "postgres:16.4", "args": ["-c", "ssl=off", "-c", "hba_file=/h"]}, ["without ssl=on"]),
        ({"name": "p", "image": "postgres:16.4", "args": ["-cssl=on"]}, ["pg_hba.conf"]),
    ],
)
def test_plaintext_servers_are_flagged_with_the_fix(container: dict[str, Any], needles: list[str]) -> None:
    found = messages(container)
    assert len(found) == len(needles), found
    for needle in needles:
        assert any(needle in m for m in found), found


@pytest.mark.parametrize(
    "container",
    [
        {"name": "r", "image": "redis:7.2.5", "args": TLS_REDIS},
        {"name": "p", "image": "postgres:16.4", "args": TLS_POSTGRES},
        {"name": "p", "image": "postgres:16.4", "args": ["--ssl=on", "--hba_file=/etc/pg/pg_hba.conf"]},
        # clients in the servers' images are not servers
        {"name": "cli", "image": "redis:7.2.5", "command": ["redis-cli", "-h", "cache", "ping"]},
        {"name": "dump", "image": "postgres:16.4", "command": ["sh", "-c", "pg_dump db > /backup/db.sql"]},
        {"name": "app", "image": "ghcr.io/acme/app:1.0", "args": ["--port", "8080"]},
    ],
)
def test_tls_only_servers_and_other_containers_pass(container: dict[str, Any]) -> None:
    assert messages(container) == []


def test_unknown_args_during_preview_skip_with_a_note() -> None:
    violations = check(ID, view(STATEFUL_SET, workload({"name": "r", "image": "redis:7.2.5", "args": UNKNOWN_STRING})))
    assert violations and all(v.note for v in violations)


def _postgres_with_hba(text: str) -> list[str]:
    container = {
        "name": "p",
        "image": "postgres:16.4",
        "args": TLS_POSTGRES,
        "volumeMounts": [{"name": "hba", "mountPath": "/etc/pg"}],
    }
    volumes = [{"name": "hba", "configMap": {"name": "db-hba"}}]
    config_map = view(CONFIG_MAP, {"metadata": {"name": "db-hba"}, "data": {"pg_hba.conf": text}}, name="db-hba")
    database = view(STATEFUL_SET, workload(container, volumes), name="db")
    return [v.message for v in findings(check_stack(ID, database, config_map))]


def test_a_non_tls_pg_hba_line_is_flagged_at_stack_level() -> None:
    flagged = _postgres_with_hba(
        "local all all trust\nhostssl all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 md5\n"
    )
    assert len(flagged) == 1
    assert "ConfigMap 'db-hba' accepts connections without TLS: 'host all all ::/0 md5'" in flagged[0]


def test_hostssl_local_and_reject_lines_pass() -> None:
    text = "# comment\nlocal all all peer\nhostssl all all all scram-sha-256\nhostnossl all all all reject\n"
    assert _postgres_with_hba(text) == []
    assert hba_gaps("hostgssenc all all all gss\nhost all all 10.0.0.0/8 md5 # legacy\n") == [
        "host all all 10.0.0.0/8 md5"
    ]


def test_option_parsers_read_both_spellings() -> None:
    assert redis_options(["redis-server", "--port", "0", "--tls-port=6379"]) == {"port": "0", "tls-port": "6379"}
    assert postgres_settings(["postgres", "-c", "ssl=on", "-chba_file=/h", "--ssl-min-protocol-version=TLSv1.3"]) == {
        "ssl": "on",
        "hba_file": "/h",
        "ssl_min_protocol_version": "TLSv1.3",
    }
