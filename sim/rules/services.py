"""F11 Share of customer: the service lines a supplier sells besides its core product.

A buyer's wallet has several lines: the core product (what market share
counts) and services such as maintenance, training, financing and logistics.
How much of the service lines a supplier wins is its *share of customer*
(``003_…``, Peppers & Rogers): it is won through trust, customer knowledge
and the departments that can sell and deliver them.
"""

from __future__ import annotations

import numpy as np


def reach(coordination: np.ndarray, skill: np.ndarray, coverage: float) -> np.ndarray:
    """Who sells the service lines: ``κ + (1 − κ)·θ·skill`` (F11, F12, L3).

    A coordinated firm's departments sell and deliver them; an
    uncoordinated one relies on its salesperson's effort (salesperson-driven
    wallet growth, Palmatier et al. 2007), as in
    :func:`sim.rules.delivery.department_performance`.
    """
    return coordination + (1.0 - coordination) * coverage * skill


def adoption(
    trust: np.ndarray, knowledge: np.ndarray, reach: np.ndarray, fit_gain: float
) -> np.ndarray:
    """Share of the buyer's service lines bought from the supplier: ``a = T·r·(1+φK)/(1+φ)``.

    Without trust only the core product is bought on price (F11); knowledge
    of the customer fits the offer (F10) and ``reach`` says who can sell it.
    """
    return trust * reach * (1.0 + fit_gain * knowledge) / (1.0 + fit_gain)


def service_spend(
    volume: np.ndarray,
    price: np.ndarray,
    needs_beyond_product: np.ndarray,
    wallet: float,
    adoption: np.ndarray,
) -> np.ndarray:
    """Money a purchase brings in service lines: ``v·p·s_w·(1 − w_product)·a`` (F11, M14).

    ``s_w`` is the service wallet per unit of core spend at full non-product
    needs: buyers who need mostly the product have little else to buy.
    """
    return volume * price * wallet * needs_beyond_product * adoption
