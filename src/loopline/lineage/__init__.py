"""The lineage graph around a dataset version, run or model version."""
