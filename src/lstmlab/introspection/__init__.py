"""lstmlab.introspection"""
