"""Case files: the PDF a review is done from, in an internal and a partner variant."""
