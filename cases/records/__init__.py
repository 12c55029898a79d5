"""Records: uploads, their checks, and what a case still lacks."""
