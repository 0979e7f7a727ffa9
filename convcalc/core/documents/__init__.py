"""The figures' catalogue, reports, the JSON contract, budgets, baselines and diffs."""
