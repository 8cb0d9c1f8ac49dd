"""Behaviour tests: the model reproduces the brief's stylized facts (F1, F2, F5, F7, F9).

Each test compares two configurations that differ only in the factor the
fact is about, over fixed seeds (deterministic, and enough to be stable).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import run_model

SEEDS = range(8)


def _accounts_lost(strategy: str, seed: int) -> tuple[float, float]:
    """Share of the departed salesperson's main accounts lost; person loyalty moved."""
    model = run_model(
        [f"strategy={strategy}", f"seed={seed}", "scenario=salesperson_leaves",
         "steps=80", "market.n_buyers=400"]
    )
    (departure,) = model.market.departures
    main = departure["main_accounts"]
    moved = model.market.buyers.main_supplier[main] != departure["from"]
    lost = float(np.mean(moved)) if main.size else 0.0
    return lost, main.size


def test_f2_salesperson_leaving_costs_lone_seller_more_accounts():
    """F2/M2/L3: a lone-seller firm loses more of a poached salesperson's accounts."""
    lone = [_accounts_lost("lone_seller", s) for s in SEEDS]
    company = [_accounts_lost("company_wide", s) for s in SEEDS]
    assert sum(n for _, n in lone) >= 40 and sum(n for _, n in company) >= 40
    lone_lost = np.average([x for x, _ in lone], weights=[n for _, n in lone])
    company_lost = np.average([x for x, _ in company], weights=[n for _, n in company])
    assert lone_lost > company_lost + 0.3, (lone_lost, company_lost)
    assert lone_lost > 0.5


def test_f2_person_bound_loyalty_follows_the_salesperson():
    """F2/M2: at departure, Lp of the accounts moves from the old firm to the poacher."""
    model = run_model(["strategy=lone_seller", "seed=1", "market.n_buyers=300", "steps=30"])
    from sim import shocks

    person = model.salesperson(shocks.pick_salesperson(model.market, 0, -1))
    accounts = person.accounts
    before = model.ties.loyalty_person[accounts, 0].copy()
    at_rival = model.ties.loyalty_person[accounts, 1].copy()
    assert before.sum() > 0
    person.leave(model.supplier_list[1])
    np.testing.assert_array_equal(model.ties.loyalty_person[accounts, 0], 0.0)
    portability = model.cfg.sales.portability
    np.testing.assert_allclose(
        model.ties.loyalty_person[accounts, 1], at_rival + portability * before, rtol=1e-5
    )
    assert person.employer is model.supplier_list[1]
    assert (model.ties.owner[accounts, 1] == person.index).all()


def test_f5_silent_accounts_churn_more_than_complaining_ones():
    """F5/M9: the absence of complaints is the deadlier sign."""
    silent_churn = silent_eps = voiced_churn = voiced_eps = 0.0
    for seed in SEEDS:
        model = run_model(
            [f"seed={seed}", "market.n_buyers=300", "steps=60", "market.noise=0.2",
             "sales.promise_inflation=0.2"]
        )
        df = model.supplier_frame()
        silent_churn += df["silent_churn"].sum()
        silent_eps += df["silent_episodes"].sum()
        voiced_churn += df["voiced_churn"].sum()
        voiced_eps += df["voiced_episodes"].sum()
    assert silent_eps >= 100 and voiced_eps >= 100
    silent_rate, voiced_rate = silent_churn / silent_eps, voiced_churn / voiced_eps
    assert silent_rate > 1.5 * voiced_rate, (silent_rate, voiced_rate)


@pytest.mark.parametrize(("trust", "expected"), [(0.0, 0.5), (1.0, 0.125)])
def test_f7_transaction_cost_share_at_zero_and_full_trust(trust, expected):
    """F7/M11/L4: half of face time is non-productive at no trust, an eighth at full trust."""
    model = run_model(
        [f"relationship.initial_trust={trust}", "relationship.trust_gain=0",
         "relationship.trust_loss=0", "relationship.trust_floor=0", "market.n_buyers=200",
         "steps=20"]
    )
    for supplier in model.summary()["suppliers"]:
        assert supplier["transaction_cost"] == pytest.approx(expected, abs=1e-3)


def test_f7_trusted_ties_spend_less_time_on_transactions():
    """F7: across suppliers, higher mean trust goes with a lower non-productive share."""
    model = run_model(["seed=2", "market.n_buyers=400", "steps=80"])
    df = model.supplier_frame().groupby("supplier")[["mean_trust", "transaction_cost"]].mean()
    assert np.corrcoef(df["mean_trust"], df["transaction_cost"])[0, 1] < -0.9


def test_f9_one_serious_failure_removes_strategic_partner_status():
    """F9/M8: a partner whose delivery falls below tolerance loses the status at once."""
    model = run_model(
        ["strategy=company_wide", "buyers=partnership", "seed=3", "market.n_buyers=400",
         "steps=80", "buyers.purchase_prob=1.0"]
    )
    ties = model.ties
    partners_before = ties.partner.copy()
    assert partners_before[:, 0].sum() >= 10, "the setting must produce partners"
    model.market.firms.quality_shock[0, :] = 1.0  # every department of supplier 0 fails this step
    model.run_for(1)
    failed = model.market.failures[:, 0] & partners_before[:, 0]
    ordered = (model.market.orders[:, 0] > 0) & partners_before[:, 0]
    assert failed.sum() >= 10 and (failed == ordered).all()
    assert not ties.partner[failed, 0].any()
    others = partners_before[:, 1:]
    kept = (ties.partner[:, 1:] & others).sum() / others.sum()
    assert kept > 0.9


def _share_gap(breadth: float, seed: int) -> float:
    model = run_model(
        [f"buyers.needs_breadth={breadth}", f"seed={seed}", "market.n_buyers=400", "steps=100"]
    )
    s = model.summary()["strategies"]
    return s["company_wide"]["market_share"] - s["lone_seller"]["market_share"]


def test_f1_company_wide_advantage_grows_with_needs_breadth():
    """F1/F12: the broader the buyers' needs, the larger the company-wide advantage."""
    narrow = np.array([_share_gap(0.1, s) for s in SEEDS])
    broad = np.array([_share_gap(0.9, s) for s in SEEDS])
    diff = broad - narrow
    half_ci = 2.365 * diff.std(ddof=1) / np.sqrt(diff.size)  # t(0.975, 7)
    assert diff.mean() - half_ci > 0.1, (narrow.mean(), broad.mean())


@pytest.mark.parametrize("engine", ["vector", "agent"])
def test_salesperson_turnover_keeps_sales_forces_staffed_and_owners_consistent(engine):
    """M2: with a departure hazard, people leave or are poached; firms refill up to plan."""
    model = run_model([f"engine={engine}", "sales.departure_hazard=0.05", "seed=2",
                       "market.n_buyers=200", "steps=40"])
    planned = np.array([s.planned_salespeople for s in model.supplier_list])
    headcount = model.market.salesforce.headcount(len(planned))
    assert len(model.market.departures) >= 20
    assert any(d["to"] is not None for d in model.market.departures)
    assert (headcount >= planned).all() and (headcount <= planned + 1).all(), headcount
    b, s = np.nonzero(model.ties.owner >= 0)
    assert (model.market.salesforce.employer[model.ties.owner[b, s]] == s).all()
