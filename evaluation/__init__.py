"""Evaluation: metrics, visual reports, quality runs on real data and speed benchmarks."""
