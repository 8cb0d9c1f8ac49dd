"""Draw a market from a config (M1–M4), and grow it when a firm enters (M15)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.ledger import Ledger
from sim.market import Buyers, Firms, FirmTable, Market, SalesForce
from sim.network import consideration_sets, neighbour_average, word_of_mouth_graph
from sim.salesforce import staff
from sim.ties import Ties

if TYPE_CHECKING:
    from sim.config import Config

F32 = np.float32


def draw_buyers(cfg: Config, is_product: np.ndarray, rng: np.random.Generator) -> Buyers:
    """Each buyer's volume, needs, stance and behaviour (M3)."""
    b = cfg.buyers
    n = cfg.market.n_buyers
    sigma = b.volume_sigma
    volume = rng.lognormal(-0.5 * sigma**2, sigma, n).astype(F32)
    needs = np.zeros((n, is_product.size), dtype=F32)
    other = ~is_product
    needs[:, is_product] = 1.0
    if other.any():
        # large accounts need service, installation, logistics and finance too (M3, F1)
        relative = volume / volume.mean()
        breadth = np.minimum(1.0, b.needs_breadth * relative**b.breadth_volume_elasticity)
        spread = rng.dirichlet(np.full(other.sum(), b.needs_concentration), n)
        needs[:, is_product] = (1.0 - breadth)[:, None]
        needs[:, other] = breadth[:, None] * spread
    adversarial = rng.random(n) < b.adversarial_share
    return Buyers(
        volume=volume,
        needs=needs,
        adversarial=adversarial,
        price_sensitivity=(
            b.price_sensitivity * np.where(adversarial, b.adversarial_price_factor, 1.0)
        ).astype(F32),
        beta=np.full(n, b.choice_intensity, dtype=F32),
        memory=np.full(n, b.memory, dtype=F32),
        voice=np.full(n, b.voice_propensity, dtype=F32),
        tolerance=np.full(n, b.failure_tolerance, dtype=F32),
        main_supplier=np.full(n, -1, dtype=np.int64),
    )


def build_market(cfg: Config, rng: np.random.Generator) -> Market:
    """A new market drawn from ``cfg``: buyers, firms, graphs, ties and sales forces.

    Every random number comes from ``rng``, in a fixed order (buyers,
    capabilities, prices, word-of-mouth graph, consideration sets, sales
    forces), so that a seed fixes the market.
    """
    market_cfg = cfg.market
    n, m = market_cfg.n_buyers, market_cfg.n_suppliers
    departments = list(market_cfg.departments)
    is_product = np.array([d == "product" for d in departments])
    buyers = draw_buyers(cfg, is_product, rng)
    shape = (m, len(departments))
    capability = np.clip(
        rng.normal(market_cfg.capability_mean, market_cfg.capability_sd, shape), 0.0, 1.0
    ).astype(F32)
    fair_share = n * cfg.buyers.purchase_prob * float(buyers.volume.mean()) / m
    prices = market_cfg.price * (1.0 + market_cfg.price_dispersion * rng.standard_normal(m))
    assignment = cfg.strategy.assignment
    firms = Firms(
        strategy=[assignment[j % len(assignment)] for j in range(m)],
        price=np.array([float(p) for p in prices], dtype=np.float64),
        capability=capability,
        quality_shock=np.zeros_like(capability),
        price_cut=np.zeros(m, dtype=F32),
        health=np.full(m, 0.5),
        cash=np.zeros(m),
        planned_salespeople=np.ones(m, dtype=np.int64),
    )
    graph = word_of_mouth_graph(n, cfg.network, seed=int(rng.integers(2**31)))
    ties = Ties.empty(n, m, cfg.relationship.initial_trust,
                       cfg.relationship.initial_satisfaction)
    ties.considers[:] = consideration_sets(n, m, cfg.network.consideration, rng)
    ties.active[:] = ties.considers
    market = Market(
        departments=departments,
        is_product=is_product,
        buyers=buyers,
        firms=firms,
        salesforce=SalesForce(),
        ties=ties,
        ledger=Ledger(m, len(departments)),
        graph=graph,
        neighbours=neighbour_average(graph),
        supply_capacity=(
            None if market_cfg.supply_capacity is None else market_cfg.supply_capacity * fair_share
        ),
        uncertainty=market_cfg.uncertainty,
    )
    for j in range(m):
        staff(market, cfg.sales, rng, j)
    market.policy = FirmTable.of(market, cfg.strategy)
    return market


def add_supplier(market: Market, cfg: Config, rng: np.random.Generator, strategy: str) -> int:
    """A new entrant (M15): a firm with fresh capability that buyers start to consider.

    Returns its index. The step's books start again for the larger market.
    """
    market_cfg, rel = cfg.market, cfg.relationship
    firms = market.firms
    j = len(firms)
    firms.strategy.append(strategy)
    firms.price = np.append(firms.price, float(market_cfg.price))
    firms.health = np.append(firms.health, 0.5)
    firms.cash = np.append(firms.cash, 0.0)
    firms.planned_salespeople = np.append(firms.planned_salespeople, 1)
    row = rng.normal(market_cfg.capability_mean, market_cfg.capability_sd, len(market.departments))
    firms.capability = np.vstack([firms.capability, np.clip(row, 0, 1).astype(F32)])
    firms.quality_shock = np.vstack(
        [firms.quality_shock, np.zeros(len(market.departments), F32)]
    )
    firms.price_cut = np.append(firms.price_cut, F32(0.0))
    market.ties.add_supplier(rel.initial_trust, rel.initial_satisfaction)
    n = market.n_buyers
    aware = rng.random(n) < min(1.0, cfg.network.consideration / (j + 1))
    market.ties.considers[:, j] = aware
    market.ties.active[:, j] = aware
    staff(market, cfg.sales, rng, j)
    market.new_buffers()
    market.ledger.reset(j + 1)
    return j
