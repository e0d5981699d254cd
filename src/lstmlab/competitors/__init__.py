"""The 1997 paper's competitors: random weight guessing, Recurrent Cascade-Correlation, the
Neural Sequence Chunker (RTRL, BPTT and Elman nets are cells trained by `lstmlab.training`)."""
