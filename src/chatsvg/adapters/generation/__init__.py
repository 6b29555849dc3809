"""Generation: the model clients and the SVG sanitizer."""
