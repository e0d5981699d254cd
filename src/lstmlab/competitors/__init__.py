"""The 1997 paper's competitors: random weight guessing, Recurrent Cascade-Correlation, the
Neural Sequence Chunker, and the fully recurrent nets trained by RTRL, BPTT and as Elman nets
(cells trained by `lstmlab.training`); each also as a method of ``lstmlab reproduce``."""

from lstmlab.competitors._chunker import Chunker, ChunkerConfig
from lstmlab.competitors._fully_recurrent import fully_recurrent_net
from lstmlab.competitors._guess import GuessResult, guess
from lstmlab.competitors._methods import (
    ChunkerMethod,
    GradientNetMethod,
    GuessMethod,
    RCCMethod,
    bptt_method,
    elman_method,
    rtrl_method,
)
from lstmlab.competitors._quickprop import Quickprop
from lstmlab.competitors._rcc import RCCConfig, RCCNetwork, train_rcc
from lstmlab.competitors._williams_zipser import WilliamsZipser

__all__ = [
    "Chunker", "ChunkerConfig", "ChunkerMethod", "GradientNetMethod", "GuessMethod",
    "GuessResult", "Quickprop", "RCCConfig", "RCCMethod", "RCCNetwork", "WilliamsZipser",
    "bptt_method", "elman_method", "fully_recurrent_net", "guess", "rtrl_method", "train_rcc",
]
