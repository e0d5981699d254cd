"""lstmlab.reproduce"""
