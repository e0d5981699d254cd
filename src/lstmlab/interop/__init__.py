"""lstmlab.interop"""
