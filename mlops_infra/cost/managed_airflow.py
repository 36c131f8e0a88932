"""Managed Airflow: an Amazon MWAA environment runs (and bills) every hour it exists, idle or not.

MWAA bills its environment class per hour (one scheduler, one worker and the web server included),
plus workers beyond the first, extra schedulers and the metadata database storage. The estimate
prices the class for the whole month (worst case = expected: there is no scale to zero) and says
that autoscaled workers are not in it. Cloud Composer 3 bills DCU-hours whose count per environment
size is not in the catalogue, so a Composer environment is listed as unpriced with that reason.
"""

from __future__ import annotations

import functools

from mlops_infra.cost.model import Pricer, Unreadable, money, number
from mlops_infra.engine.captured import CapturedResource
from mlops_infra.policy.facts.managed_airflow import COMPOSER_ENVIRONMENT, MWAA_ENVIRONMENT

MWAA_SERVICE = "mwaa"
DEFAULT_CLASS = "mw1.small"  # MWAA's default environment class
COMPOSER_REASON = (
    "Cloud Composer 3 bills DCU-hours (0.06 USD each in the catalogue, gcp.yaml composer) and the DCUs an "
    "environment size provisions are not in the catalogue; not estimated"
)


def price_managed_airflow(p: Pricer) -> None:
    """Every MWAA environment for the month at its class's hourly rate; Composer environments unpriced."""
    for environment in p.stack.by_type(MWAA_ENVIRONMENT):
        p.guarded(environment, functools.partial(_price_mwaa, p, environment))
    for environment in p.stack.by_type(COMPOSER_ENVIRONMENT):
        p.unpriced(environment, COMPOSER_REASON)


def _price_mwaa(p: Pricer, environment: CapturedResource) -> None:
    environment_class = environment.inputs.get("environmentClass") or DEFAULT_CLASS
    if not isinstance(environment_class, str):
        raise Unreadable("its environment class is unknown until deployment")
    usd, why = p.aws_hourly(MWAA_SERVICE, environment_class)
    if usd is None:
        raise Unreadable(why)
    hours = p.catalogue.month_hours
    monthly = hours * usd
    p.item(
        environment,
        monthly,
        monthly,
        f"{environment_class} x {number(hours)} h (always on) x {money(usd)}; workers beyond the first, extra "
        "schedulers and database storage not included" + p.aws_region_note,
    )
