"""icetrace.signaling"""
