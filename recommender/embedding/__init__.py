"""Turning article text into vectors, offline: the embedder interface, its backends and where
the model's weights are found."""
