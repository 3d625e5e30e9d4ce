"""The HTTP service: FastAPI routes over model.Predictor. Imports model only."""
