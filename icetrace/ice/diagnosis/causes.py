"""Rules that name why a failure happened, from what the capture shows around it.

The other families report what went wrong (a server silent, a pair unanswered, nothing
nominated); a cause rule reads those same facts and says which failure explains the others, with
the frames that prove it. A cause is registered like any rule (`registry.rule`), its code declared
in `VerdictCode` at its place in report order.
"""
