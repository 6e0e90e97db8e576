"""The best model for this machine: ``select`` (timm's zoo timed here beside timm's published top-1: the
points, the budget, the pick), ``budgets`` (budgets as a user types them), ``counts`` (the zoo's exact
counts, shipped), ``pareto`` (the frontier) and ``predictors`` (which cost metric predicts runtime)."""
