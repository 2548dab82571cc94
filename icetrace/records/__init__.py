"""Message records: the plain values every later stage consumes."""
