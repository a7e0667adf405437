"""Great-circle distances between facilities and the conflict graph (pairs farther apart than D)."""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0  # the mean radius the issue fixes (IUGG mean radius 6,371.0088 km, rounded)


def distance_matrix(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Pairwise haversine distances in km (n × n, symmetric, zero diagonal)."""
    phi = np.radians(np.asarray(lat, dtype=float))
    lam = np.radians(np.asarray(lon, dtype=float))
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    a = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def conflicts(dist: np.ndarray, max_distance_km: float) -> list[tuple[int, int]]:
    """Index pairs (i < j) that may not share a district."""
    i, j = np.nonzero(np.triu(dist > max_distance_km + 1e-9, k=1))
    return list(zip(i.tolist(), j.tolist(), strict=True))
