"""The lapor-triage HTTP service (FastAPI). ``service.main.create_app`` builds the app;
``lapor-triage serve`` runs it. The service only translates HTTP to predictor calls."""
