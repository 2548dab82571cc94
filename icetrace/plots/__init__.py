"""icetrace.plots"""
