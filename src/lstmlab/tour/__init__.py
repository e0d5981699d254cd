"""The tour: a small LSTM language model trained in front of the user, then looked into."""

from lstmlab.tour.run import TourConfig, TourResult, run_tour, summary

__all__ = ["TourConfig", "TourResult", "run_tour", "summary"]
