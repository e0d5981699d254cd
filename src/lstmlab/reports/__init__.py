"""lstmlab.reports"""
