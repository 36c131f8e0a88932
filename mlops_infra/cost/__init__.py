"""Cost: the dated price catalogue (``catalogue``), the estimator (``estimate``) and the budget comparison
(``budgets``) behind ``mlops-infra cost`` and the ``cost-budget`` policy rule.
"""

from __future__ import annotations

from mlops_infra.cost.catalogue import (
    Catalogue,
    CatalogueError,
    PriceLookup,
    PriceRow,
    load_catalogue,
)

__all__ = ["Catalogue", "CatalogueError", "PriceLookup", "PriceRow", "load_catalogue"]
