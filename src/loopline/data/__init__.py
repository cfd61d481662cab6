"""The datasets service: sources, canonical form and digest, profiles, versions, diffs.

Heavy libraries (pyarrow, pandas, numpy) are imported inside functions, so importing this package
costs nothing until a dataset is touched.
"""
