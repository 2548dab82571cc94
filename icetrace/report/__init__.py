"""icetrace.report"""
