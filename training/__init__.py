"""Training: typed config, data loading, the training loop and MLflow logging."""
