"""Models: a name (or a name plus scaling coefficients) to a spec to a network.

``registry`` (names, ModelSpecs, workload keys, building), ``families`` (the scalable bases as data),
``timm_builders`` (the one place timm's private builders are called), ``user`` (your own
``package.module:function`` models).
"""
