"""Live reading: calls told as a capture still being written shows them ending (`icetrace watch`)."""
