"""The review's own wording (title, arm names, "Favours ..." labels), from ``config.yaml``.

The statistics, plots and report know nothing about a particular review: every piece of text
that names the intervention or the comparator comes from the config block ``review``
(schema: ``metareview/schemas/config.schema.yaml``; neutral defaults "experimental" and
"control"). Entry scripts activate the labels with :func:`use_labels`; library code reads them
with :func:`current_labels`, so functions keep their signatures.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass


def capitalize(text: str) -> str:
    """First letter upper case, the rest untouched ("aspirin" → "Aspirin", "BZD" stays)."""
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class ReviewLabels:
    """Wording of one review. Arm names are written as they appear inside a sentence."""

    title: str = "Systematic review"
    intervention: str = "experimental"
    comparator: str = "control"
    favours_experimental: str = ""
    favours_control: str = ""

    @classmethod
    def from_config(cls, review: dict | None) -> ReviewLabels:
        """Build from the validated ``review`` config block (missing keys: defaults)."""
        review = dict(review or {})
        favours = review.get("favours_labels") or {}
        default = cls()
        return cls(
            title=str(review.get("title") or default.title),
            intervention=str(review.get("intervention") or default.intervention),
            comparator=str(review.get("comparator") or default.comparator),
            favours_experimental=str(favours.get("experimental") or ""),
            favours_control=str(favours.get("control") or ""),
        )

    @property
    def experimental_heading(self) -> str:
        """Column heading of the experimental arm ("Aspirin")."""
        return capitalize(self.intervention)

    @property
    def control_heading(self) -> str:
        """Column heading of the control arm ("Control")."""
        return capitalize(self.comparator)

    @property
    def favours(self) -> tuple[str, str]:
        """("Favours <experimental>", "Favours <control>"), configured or derived."""
        return (
            self.favours_experimental or f"Favours {self.intervention}",
            self.favours_control or f"Favours {self.comparator}",
        )

    @property
    def report_title(self) -> str:
        return f"{self.title}: meta-analysis report"

    @property
    def overview_title(self) -> str:
        return f"{self.title}: main analysis per condition"


_CURRENT: contextvars.ContextVar[ReviewLabels | None] = contextvars.ContextVar(
    "review_labels", default=None
)


def current_labels() -> ReviewLabels:
    """The labels activated by :func:`use_labels` (neutral defaults otherwise)."""
    return _CURRENT.get() or ReviewLabels()


@contextlib.contextmanager
def use_labels(labels: ReviewLabels | dict | None) -> Iterator[ReviewLabels]:
    """Activate ``labels`` (a :class:`ReviewLabels` or a ``review`` config block)."""
    if not isinstance(labels, ReviewLabels):
        labels = ReviewLabels.from_config(labels)
    token = _CURRENT.set(labels)
    try:
        yield labels
    finally:
        _CURRENT.reset(token)
