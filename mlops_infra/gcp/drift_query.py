"""The BigQuery SQL that measures feature drift between training data and logged Vertex requests.

Distance per feature, 0-1 (the spec's ``drift.threshold`` unit, compared with each feature's own
threshold: ``DriftSpec.threshold_for``): the L-infinity distance between
the two distributions, i.e. the largest difference in the share of any value (categorical
features) or of any baseline decile (numeric features). Vertex AI model monitoring uses the
same distance for categorical features.

The live side reads Vertex request-response logging tables (``request_payload`` is an array of
JSON instances); instances must be JSON objects keyed by feature name.
"""

# ruff: noqa: S608 - the SQL is built from validated identifiers only (BigQuery id and table patterns, numbers).

from __future__ import annotations

import re

from pydantic import Field

from mlops_infra.gcp.validation import BIGQUERY_ID_PATTERN
from mlops_infra.spec.base import Spec, Switch

# ``project.dataset.table``: the fully qualified tables the query reads.
TABLE_PATTERN = re.compile(
    r"^[a-z][a-z0-9-]{4,28}[a-z0-9]\.[A-Za-z_][A-Za-z0-9_]{0,1023}\.[A-Za-z_][A-Za-z0-9_$-]{0,1023}$"
)


class DriftFeature(Spec):
    """A watched feature: a column of the baseline table and a key of each logged instance."""

    name: str = Field(pattern=BIGQUERY_ID_PATTERN)
    numeric: Switch = Field(False, description="Compare baseline deciles (numeric) instead of values (categorical).")
    threshold: float | None = Field(
        None, gt=0, le=1, description="Distance (0-1) above which this feature has drifted; None: the query's."
    )


def _check_table(table: str) -> str:
    if not TABLE_PATTERN.fullmatch(table):
        raise ValueError(f"{table!r} is not a project.dataset.table name")
    return table


def _live(feature: DriftFeature, logging_tables: list[str], window_hours: int) -> str:
    cast = "SAFE_CAST({} AS FLOAT64)" if feature.numeric else "{}"
    value = cast.format(f"JSON_VALUE(instance, '$.{feature.name}')")
    return " UNION ALL ".join(
        f"SELECT {value} AS v FROM `{_check_table(t)}`, UNNEST(request_payload) AS instance "
        f"WHERE logging_time >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL {window_hours} HOUR)"
        for t in logging_tables
    )


def _baseline(feature: DriftFeature, table: str, time_column: str, baseline_days: int) -> str:
    if not re.fullmatch(BIGQUERY_ID_PATTERN, time_column):
        raise ValueError(f"{time_column!r} is not a BigQuery column name")
    value = f"CAST({feature.name} AS FLOAT64)" if feature.numeric else f"CAST({feature.name} AS STRING)"
    return (
        f"SELECT {value} AS v FROM `{_check_table(table)}` "
        f"WHERE {time_column} >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL {baseline_days} DAY)"
    )


def _distance(feature: DriftFeature, baseline: str, live: str, threshold: float) -> str:
    """One row (feature, threshold, distance): the largest share difference of any value or baseline decile."""
    if feature.numeric:
        key = f"RANGE_BUCKET(v, (SELECT q FROM bounds_{feature.name}))"
        bounds = f"bounds_{feature.name} AS (SELECT APPROX_QUANTILES(v, 10) AS q FROM baseline_{feature.name}), "
    else:
        key = "v"
        bounds = ""
    shares = "SELECT {key} AS k, COUNT(*) / SUM(COUNT(*)) OVER () AS share FROM {source} WHERE v IS NOT NULL GROUP BY k"
    return (
        f"(WITH baseline_{feature.name} AS ({baseline}), live_{feature.name} AS ({live}), {bounds}"
        f"b AS ({shares.format(key=key, source=f'baseline_{feature.name}')}), "
        f"l AS ({shares.format(key=key, source=f'live_{feature.name}')}) "
        f"SELECT '{feature.name}' AS feature, {float(threshold)!r} AS threshold, "
        "IFNULL(MAX(ABS(IFNULL(b.share, 0) - IFNULL(l.share, 0))), 0) AS distance "
        "FROM b FULL OUTER JOIN l USING (k))"
    )


def drift_query(
    *,
    features: list[DriftFeature],
    baseline_table: str,
    baseline_time_column: str,
    logging_tables: list[str],
    threshold: float,
    baseline_days: int,
    window_hours: int,
) -> str:
    """One row: how many features drifted, each feature's ``distance/threshold``, and the drifted features.

    A feature drifts when its distance exceeds its own ``threshold``, else the query's ``threshold`` (0-1).
    Columns: ``drifted`` (count), ``detail`` (``feature=distance/threshold, ...``), ``features`` (the drifted
    ones, comma-separated, or NULL).
    """
    if not features or not logging_tables:
        raise ValueError("a drift query needs at least one feature and one logging table")
    parts = [
        _distance(
            feature,
            _baseline(feature, baseline_table, baseline_time_column, baseline_days),
            _live(feature, logging_tables, window_hours),
            feature.threshold if feature.threshold is not None else threshold,
        )
        for feature in features
    ]
    distances = " UNION ALL ".join(f"SELECT * FROM {part}" for part in parts)
    return (
        f"WITH distances AS ({distances}) "
        "SELECT COUNTIF(distance > threshold) AS drifted, "
        "STRING_AGG(FORMAT('%s=%.3f/%.3f', feature, distance, threshold), ', ' ORDER BY feature) AS detail, "
        "STRING_AGG(IF(distance > threshold, feature, NULL), ',' ORDER BY feature) AS features FROM distances"
    )
