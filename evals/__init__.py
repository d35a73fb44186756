"""Grounding evaluation: dataset loaders, metrics, runner and reports over the real library."""
