"""lstmlab.layers: cells over time (``unroll``) and drop-ins for torch.nn.LSTM/GRU/RNN."""

from lstmlab.layers.unroll import Recording, Unrolled, unroll

__all__ = ["Recording", "Unrolled", "unroll"]
