"""Training: typed config, data loading, the training loop, metrics and reports, MLflow logging."""
