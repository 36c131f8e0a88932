"""Cost: the dated price catalogue (``catalogue``) and the estimator (``estimate``) behind ``mlops-infra cost``.

The ``cost-budget`` policy rule is not built yet.
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
