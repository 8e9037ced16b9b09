"""The controls' metadata, areas, mutants, and the documents generated from them."""
