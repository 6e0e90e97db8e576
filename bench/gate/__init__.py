"""The CI latency gate: ``interleaved`` (baseline and candidate timed interleaved), ``decision`` (passed,
regressed or too noisy to judge, from the paired readings), ``worker``
(one side's timing process), ``sources`` (where each side's code comes from) and ``timings`` (the gate
without git: stored timings on one machine)."""
