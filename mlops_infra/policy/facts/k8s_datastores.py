"""Redis and PostgreSQL running in Kubernetes pods, and whether their command line serves TLS only.

A container is a Redis when its image's repository name is ``redis`` or ``valkey`` or it runs
``redis-server`` / ``valkey-server``; a PostgreSQL when the image is ``postgres`` / ``postgresql`` or
it runs ``postgres``. The rules read the command line (``command`` + ``args``): that is where a
manifest shows a server's TLS settings (a setting only in a config file baked into the image is
not visible, so it is not proven). PostgreSQL's ``pg_hba.conf`` is judged when ``-c hba_file=`` names
a file mounted from a ConfigMap of the same stack (``hba_source``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mlops_infra.policy.facts.k8s_workloads import Container
from mlops_infra.policy.values import known

Datastore = Literal["redis", "postgres"]
REDIS_IMAGES = ("redis", "valkey")
REDIS_PROGRAMS = ("redis-server", "valkey-server")
POSTGRES_IMAGES = ("postgres", "postgresql")
POSTGRES_PROGRAMS = ("postgres",)
ENTRYPOINTS = ("docker-entrypoint.sh",)
REDIS_DEFAULT_PORT = "6379"
TRUE_SETTINGS = ("on", "true", "yes", "1")
PLAINTEXT_HBA_TYPES = ("host", "hostnossl")  # hostssl and hostgssenc are encrypted; local is the pod's own socket


def image_name(image: Any) -> str:
    """The repository's last path part without tag or digest: ``docker.io/library/redis:7.2`` -> ``redis``."""
    if not isinstance(image, str):
        return ""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[0].lower()


def command_line(container: Container) -> list[str]:
    """``command`` then ``args``, as strings (an unknown value raises UnknownValue: the check is skipped)."""
    argv: list[str] = []
    for key in ("command", "args"):
        value = known(container.spec.get(key), f"{container.path}.{key}")
        if isinstance(value, Sequence) and not isinstance(value, str):
            argv += [str(known(part, f"{container.path}.{key}")) for part in value]
    return argv


def datastore(container: Container) -> Datastore | None:
    """Which datastore server the container runs, if any.

    The image counts only when the container runs its server: no command line, options only, a
    config file, the image's entrypoint or the server itself (``redis-cli`` in a redis image is a client).
    """
    argv = command_line(container)
    program = [posixpath.basename(part) for part in argv[:2]]
    first = program[0] if program else ""
    image = image_name(container.spec.get("image"))
    runs_image_server = not first or first.startswith("-") or first.endswith(".conf") or first in ENTRYPOINTS
    if any(p in REDIS_PROGRAMS for p in program) or (image in REDIS_IMAGES and runs_image_server):
        return "redis"
    if any(p in POSTGRES_PROGRAMS for p in program) or (image in POSTGRES_IMAGES and runs_image_server):
        return "postgres"
    return None


def redis_options(argv: Sequence[str]) -> dict[str, str]:
    """``--name value`` / ``--name=value`` options of a redis-server command line (last one wins)."""
    found: dict[str, str] = {}
    for index, part in enumerate(argv):
        if not part.startswith("--"):
            continue
        name, equals, value = part[2:].partition("=")
        if not equals:
            value = argv[index + 1] if index + 1 < len(argv) else ""
        found[name.lower()] = value.strip()
    return found


def postgres_settings(argv: Sequence[str]) -> dict[str, str]:
    """``-c name=value`` / ``--name=value`` settings of a postgres command line (last one wins)."""
    found: dict[str, str] = {}
    for index, part in enumerate(argv):
        if part == "-c" and index + 1 < len(argv):
            setting = argv[index + 1]
        elif (part.startswith("-c") and len(part) > 2) or (part.startswith("--") and "=" in part):
            setting = part[2:]
        else:
            continue
        name, _, value = setting.partition("=")
        found[name.strip().lower().replace("-", "_")] = value.strip().strip("'\"")
    return found


def redis_gaps(argv: Sequence[str]) -> list[str]:
    """Why a Redis command line is not TLS-only (each with the fix); [] when it is."""
    options = redis_options(argv)
    gaps = []
    if options.get("tls-port", "0") == "0":
        gaps.append(
            "serves no TLS. Set --tls-port 6379 with --tls-cert-file, --tls-key-file and --tls-ca-cert-file "
            "(a cert-manager Certificate's Secret)"
        )
    port = options.get("port")
    if port is None:
        gaps.append(f"also listens in plaintext on Redis's default port {REDIS_DEFAULT_PORT}. Set --port 0")
    elif port != "0":
        gaps.append(f"listens in plaintext on --port {port}. Set --port 0")
    return gaps


def postgres_gaps(argv: Sequence[str]) -> list[str]:
    """Why a PostgreSQL command line does not enforce TLS (each with the fix); [] when it does."""
    settings = postgres_settings(argv)
    gaps = []
    if settings.get("ssl", "off").lower() not in TRUE_SETTINGS:
        gaps.append("runs without ssl=on. Add -c ssl=on with -c ssl_cert_file= and -c ssl_key_file=")
    if "hba_file" not in settings:
        gaps.append(
            "uses the data directory's pg_hba.conf, which the official image writes with a 'host' line (non-TLS "
            "connections accepted). Mount a pg_hba.conf with hostssl lines only and add -c hba_file="
        )
    return gaps


def hba_gaps(text: str) -> list[str]:
    """The pg_hba.conf lines that accept network connections without TLS (``host``/``hostnossl``, not reject)."""
    lines = []
    for raw in text.splitlines():
        fields = raw.split("#", 1)[0].split()
        if fields and fields[0] in PLAINTEXT_HBA_TYPES and fields[-1] != "reject":
            lines.append(" ".join(fields))
    return lines


@dataclass(frozen=True)
class HbaSource:
    """Where a PostgreSQL container's ``hba_file`` comes from: a key of a ConfigMap mounted in its pod."""

    config_map: str
    key: str


def hba_source(container: Container) -> HbaSource | None:
    """The ConfigMap key behind ``-c hba_file=...`` (None: not set, or not from a ConfigMap volume)."""
    path = postgres_settings(command_line(container)).get("hba_file")
    if not path:
        return None
    volumes = {v.get("name"): v for v in _mappings(container.pod.spec.get("volumes"))}
    for mount in _mappings(container.spec.get("volumeMounts")):
        mount_path = str(mount.get("mountPath", "")).rstrip("/")
        if not mount_path or not path.startswith(f"{mount_path}/"):
            continue
        config_map = (volumes.get(mount.get("name")) or {}).get("configMap")
        if not isinstance(config_map, Mapping) or not isinstance(config_map.get("name"), str):
            return None
        relative = path[len(mount_path) + 1 :]
        items = {str(i.get("path")): str(i.get("key")) for i in _mappings(config_map.get("items"))}
        return HbaSource(config_map["name"], items.get(relative, relative))
    return None


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [item for item in value if isinstance(item, Mapping)]
    return []
