"""lapor-triage: machine learning for Indonesia's SP4N-LAPOR! complaint channel."""

__version__ = "0.1.0"
