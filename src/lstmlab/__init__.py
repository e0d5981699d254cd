"""lstmlab: the LSTM laboratory."""

__version__ = "0.1.0"
