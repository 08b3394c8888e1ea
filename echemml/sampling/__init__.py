"""Choosing the few grid points a model trains on (the paper's contribution).

- :mod:`echemml.sampling.algorithms` — the algorithms on arrays: random, targeted
  sampling (TS, Eq. 5) and linearly-independent-feature sampling (LIFS, Eq. 6);
- :mod:`echemml.sampling.features` — the ghost-point feature vectors LIFS compares,
  from a model's representation;
- :mod:`echemml.sampling.driver` — the per-configuration driver: sources (density
  files, response pairs, compact candidates), settings, and the parallel fan-out that
  turns them into sample sets.

The algorithms are re-exported here; import the driver from its module.
"""

from .algorithms import LIFSResult, lifs_select, random_sampling, targeted_log_weights, targeted_order, targeted_sampling

__all__ = ["LIFSResult", "lifs_select", "random_sampling", "targeted_log_weights", "targeted_order", "targeted_sampling"]
