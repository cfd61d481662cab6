"""Model cards (Mitchell et al. 2019): rendered from the registry, with human sections versioned."""
