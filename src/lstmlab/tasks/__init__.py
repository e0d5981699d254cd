"""lstmlab.tasks"""
