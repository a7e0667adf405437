"""Whom to group with: optimal districting of facilities across municipalities (issue #14).

Each facility needs a repair contract in a year with probability q (the Markov hazard model's
``repair_probability``, under renewal); a contract bundles at most L repairs; a district of N facilities then
needs f(N, L) = E⌈X/L⌉ contracts a year, X ~ Binomial(N, q) (Poisson-binomial with per-facility q). Choose
districts — any facilities of any municipalities, no two farther apart than D km on the sphere — that
minimise Σ f(N_k, L), and compare with each municipality ordering alone (the Tohoku University study on Miyagi
bridges; ../docs/districting.md).

Modules: ``types`` (inputs and results, as data), ``contracts`` (the f table, exact at every integer),
``geo`` (haversine distances and the conflict graph), ``exact`` (CP-SAT model with a proven bound),
``heuristic`` (a feasible start, local search, a valid lower bound), ``solve`` (baselines, the choice of
method, the sweep over D). Pure computation: no I/O.
"""
