"""Studies of the harness itself, run by hand: how our numbers compare with other tools'."""
