"""M13 Stages: Dwyer–Schurr–Oh transitions and the strategic partner (F9)."""

from __future__ import annotations

import numpy as np

from sim.ties import Stage


def next_stage(
    stage: np.ndarray,
    bought: np.ndarray,
    trust: np.ndarray,
    commitment: np.ndarray,
    wallet: np.ndarray,
    expansion: tuple[float, float],
    commitment_thresholds: tuple[float, float, float],
) -> np.ndarray:
    """Stage of each tie after this step (M13).

    The stage is recomputed from the thresholds every step: the highest of
    exploration (bought at least once), expansion (``T ≥ t_e`` and
    ``share ≥ w_e``) and commitment (also ``T ≥ t_c``, ``C ≥ c_c``,
    ``share ≥ w_c``) whose conditions hold. So a tie can move several stages
    in one step, up or down; only awareness (never bought) is not returned
    to. Dissolution is set by :meth:`sim.ties.Ties.dissolve`, not here.
    """
    t_e, w_e = expansion
    t_c, c_c, w_c = commitment_thresholds
    engaged = stage >= Stage.EXPLORATION
    engaged |= bought
    level = np.where(engaged, np.int8(Stage.EXPLORATION), np.int8(Stage.AWARENESS))
    expanding = engaged
    expanding &= trust >= t_e
    expanding &= wallet >= w_e
    np.copyto(level, np.int8(Stage.EXPANSION), where=expanding)
    committed = expanding
    committed &= trust >= t_c
    committed &= commitment >= c_c
    committed &= wallet >= w_c
    np.copyto(level, np.int8(Stage.COMMITMENT), where=committed)
    np.copyto(level, stage, where=stage == Stage.DISSOLUTION, casting="unsafe")
    return level


def promote_partner(
    partner: np.ndarray,
    stage: np.ndarray,
    trust: np.ndarray,
    attraction: np.ndarray,
    partnership: np.ndarray,
    threshold: float,
) -> np.ndarray:
    """Strategic-partner flags after promotion (F9).

    A partnership buyer without a partner promotes its most attractive
    supplier at the commitment stage with trust above the threshold; a buyer
    keeps at most one partner.
    """
    eligible = stage == Stage.COMMITMENT
    eligible &= trust >= threshold
    eligible &= partnership
    shape = partner.shape
    eligible = eligible.reshape(-1, shape[-1])
    result = partner.reshape(-1, shape[-1]).copy()
    # only buyers with an eligible supplier and no partner yet choose (few rows)
    rows = np.flatnonzero(eligible.any(axis=-1) & ~result.any(axis=-1))
    candidate = np.where(eligible[rows], attraction.reshape(-1, shape[-1])[rows], -np.inf)
    best = np.argmax(candidate, axis=-1)
    result[rows, best] |= eligible[rows, best]
    return result.reshape(shape)
