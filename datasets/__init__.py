"""Data the repository ships, installed as package data: demo data, challenge sets, JSON schemas.

No code: ``lapor_triage.paths.datasets_dir()`` finds this folder in a source checkout and in an
installed wheel alike.
"""
