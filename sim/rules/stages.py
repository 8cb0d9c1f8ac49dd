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
    engaged = (stage >= Stage.EXPLORATION) | bought
    level = np.where(engaged, Stage.EXPLORATION, Stage.AWARENESS)
    expanding = engaged & (trust >= t_e) & (wallet >= w_e)
    level = np.where(expanding, Stage.EXPANSION, level)
    committed = expanding & (trust >= t_c) & (commitment >= c_c) & (wallet >= w_c)
    level = np.where(committed, Stage.COMMITMENT, level)
    return np.where(stage == Stage.DISSOLUTION, stage, level).astype(np.int8)


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
    eligible = (stage == Stage.COMMITMENT) & (trust >= threshold) & partnership
    candidate = np.where(eligible, attraction, -np.inf)
    best = np.argmax(candidate, axis=-1)[..., None]
    pick = np.zeros(partner.shape, dtype=bool)
    np.put_along_axis(pick, best, np.take_along_axis(eligible, best, axis=-1), axis=-1)
    has = partner.any(axis=-1, keepdims=True)
    return partner | (pick & ~has)
