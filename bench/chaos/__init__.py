"""Faults under load (issue 14): two Hearth workers, a private Redis and a private PostgreSQL,
members chatting in one room while a worker is killed, Redis stops and PostgreSQL restarts."""
