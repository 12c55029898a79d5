"""Secure messages between a case's members and its coordinators."""
