"""Evaluation tools above training: quality runs on real data, monev, speed and load benchmarks.

The metrics and the evaluation report every model gets at training time live below, in
``lapor_triage.training.metrics``, ``.report`` and ``.reply_metrics``: evaluation imports training,
never the other way round (README, "Layers").
"""
