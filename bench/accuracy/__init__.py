"""Accuracy: proxy-task training from scratch, pretrained evaluation, and where each number came from."""

#: Trained here from scratch (the proxy task).
MEASURED = "measured"
#: Released weights scored here on real images.
PRETRAINED_EVAL = "pretrained-eval"
#: The paper's own numbers (Tan & Le, 2019).
REPORTED = "reported"
#: ImageNet top-1 from timm's published results tables (bench.reference.TIMM_RESULTS_ORIGIN).
REPORTED_TIMM = "reported-timm"

#: Every accuracy is labelled with one of these; a new reported source is ``reported-<origin>``.
SOURCES = (MEASURED, PRETRAINED_EVAL, REPORTED, REPORTED_TIMM)
