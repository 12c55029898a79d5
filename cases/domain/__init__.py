"""The vocabulary and rules of a case in plain Python: no ORM, no requests, no storage.

Everything here can be imported and tested without a database; ``import-linter`` keeps
``django.db`` (and the rest of ``cases``) out.
"""
