"""lstmlab.training"""
