"""The reference: a minimal chat on stock Django Channels, to compare Hearth's fan-out with.

It is the Channels tutorial's room chat (consumers.py) with no database, no sessions and no
moderation, served by plain daphne with the stock channel layer settings: the floor of what
Channels itself costs per connection and per delivered frame on this machine.
"""
