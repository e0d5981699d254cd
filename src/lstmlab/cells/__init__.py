"""lstmlab.cells"""
