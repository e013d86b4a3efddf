"""Portfolio construction: optimisation (`optimize`), with accounting modules to sit beside it."""
