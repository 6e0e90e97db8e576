"""The results store: ``results`` (columns, reading, the only writer), ``atomic`` (atomic replacement and
locks), ``count_cache`` (the persistent memo of exact counts) and ``reuse`` (training rows one suite takes
from another)."""
