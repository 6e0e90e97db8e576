"""Accuracy: proxy-task training from scratch, pretrained evaluation, and where each number came from."""

#: Every accuracy is labelled with one of these.
SOURCES = ("measured", "pretrained-eval", "reported")
