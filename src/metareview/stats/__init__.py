"""Statistical engine modules."""
