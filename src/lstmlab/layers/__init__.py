"""lstmlab.layers"""
