"""Statistical methods beyond inverse-variance pooling (Mantel–Haenszel, Peto)."""
