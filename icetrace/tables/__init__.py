"""icetrace.tables"""
