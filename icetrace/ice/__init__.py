"""icetrace.ice"""
