"""Measurements, each a small function returning a typed result: ``complexity`` (params, MACs,
activations), ``layers`` (the same per module), ``latency`` (CPU/CUDA latency, throughput, memory),
``regime`` (map sizes per stage), ``environment`` (the conditions every row carries) and ``parallel``
(the worker pool counting, planning and training run in)."""
