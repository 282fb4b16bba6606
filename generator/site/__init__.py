"""The site model and what is computed from it: units, collections, statistics, search, URLs."""
