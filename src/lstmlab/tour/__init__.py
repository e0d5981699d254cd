"""The tour: a small LSTM language model and a simple RNN trained in front of the user over
several seeds, then looked into (gates, interventions, what the forget gate reads)."""

from lstmlab.tour.run import SeedResult, TourConfig, TourResult, run_tour
from lstmlab.tour.summary import summary

__all__ = ["SeedResult", "TourConfig", "TourResult", "run_tour", "summary"]
