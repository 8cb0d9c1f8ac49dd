"""Hydra plugin of this project: the sweeper that experiments use (``hydra/sweeper=cells``)."""
