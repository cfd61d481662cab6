"""Models: flavors that save and load model objects safely (the registry builds on them)."""
