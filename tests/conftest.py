"""Hypothesis profiles for the property tests (``tests/test_properties.py``).

``ci``, the default, runs a bounded number of examples, the same ones on every run
(``derandomize``, no example database), so the suite is reproducible and its share of
the run stays small. ``long`` searches further and at random: choose it with
``--hypothesis-profile long`` or ``HYPOTHESIS_PROFILE=long``. ``benchmarks/fuzz.py`` is the
longer run with thousands of examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,  # a check takes what the machine gives it: no wall-clock limits
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
