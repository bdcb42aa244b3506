"""One frozen options object for every fit: tau² method, CI method, level, convergence.

Every function of :mod:`metareview.stats` that fits a model takes ``options: FitOptions``
(or, for convenience in notebooks and tests, the same names as keyword arguments, which
:func:`resolve` turns into a :class:`FitOptions`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

TAU2_METHODS = ("DL", "REML", "PM", "ML", "HE", "SJ", "HS", "EB")
CI_METHODS = ("z", "hksj")
CONVERGENCE = ("exact", "metafor")


@dataclass(frozen=True)
class FitOptions:
    """How a random-effects model is fitted.

    Attributes
    ----------
    tau2_method : {"DL", "REML", "PM", "ML", "HE", "SJ", "HS", "EB"}
    ci_method : {"z", "hksj"}
        ``hksj``: Knapp–Hartung SE (not truncated) with t(k − p), as ``test="knha"``.
    level : float
        Confidence level in (0, 1).
    convergence : {"exact", "metafor"}
        ``exact`` solves iterative tau² and Q-profile bounds to ~1e-12; ``metafor`` stops
        where metafor's default ``control`` stops (reproducing ``rma()``/``confint()``).
    tau2_search_limit : bool
        False (default): the Q-profile CI of tau² is the true bound (the bracket is widened
        until the root is found). True: searched in [0, max(100, 10·τ̂²)] as metafor does, a
        bound beyond the limit reported as the limit and noted.
    """

    tau2_method: str = "REML"
    ci_method: str = "hksj"
    level: float = 0.95
    convergence: str = "exact"
    tau2_search_limit: bool = False

    def __post_init__(self) -> None:
        if self.tau2_method not in TAU2_METHODS:
            raise ValueError(f"tau2_method {self.tau2_method!r} is not one of {TAU2_METHODS}")
        if self.ci_method not in CI_METHODS:
            raise ValueError(f"ci_method {self.ci_method!r} is not one of {CI_METHODS}")
        if self.convergence not in CONVERGENCE:
            raise ValueError(f"convergence {self.convergence!r} is not one of {CONVERGENCE}")
        if not 0.0 < float(self.level) < 1.0:
            raise ValueError(f"level {self.level!r} must lie in (0, 1)")
        object.__setattr__(self, "level", float(self.level))

    def with_(self, **changes) -> FitOptions:
        """A copy with some fields changed."""
        return replace(self, **changes)


def resolve(options: FitOptions | None = None, **overrides) -> FitOptions:
    """``options`` (default :class:`FitOptions`) with keyword overrides applied."""
    base = options if options is not None else FitOptions()
    overrides = {key: value for key, value in overrides.items() if value is not None}
    return replace(base, **overrides) if overrides else base
