"""Scaling: ``rules`` (pure rounding rules and compound(φ)), ``solver`` (cost-matched coefficients),
``plan`` (suite entries to concrete specs), ``hardware`` (alpha, beta, gamma from measured latency) and
``paired_timer`` (latency ratios against a base, timed interleaved and kept in the results store)."""
