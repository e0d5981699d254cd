"""The tour: a small LSTM language model and a simple RNN trained in front of the user over
several seeds, then looked into (gates, interventions, what the forget gate reads)."""

from lstmlab.tour._report import write_tour_report
from lstmlab.tour._run import SeedResult, TourConfig, TourResult, run_tour
from lstmlab.tour._summary import summary

__all__ = ["SeedResult", "TourConfig", "TourResult", "run_tour", "summary", "write_tour_report"]
