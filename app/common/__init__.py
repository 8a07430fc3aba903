"""Helpers every feature shares: the clock and China's time zone, hashing, DOCX text, XLSX."""
