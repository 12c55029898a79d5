"""The patient's control of their data: export, erasure, retention, who has seen it."""
