"""Cost: the dated price catalogue (``catalogue``). The estimator and the cost-budget rule are not built yet."""

from __future__ import annotations

from mlops_infra.cost.catalogue import (
    Catalogue,
    CatalogueError,
    PriceLookup,
    PriceRow,
    load_catalogue,
)

__all__ = ["Catalogue", "CatalogueError", "PriceLookup", "PriceRow", "load_catalogue"]
