"""Media facts: locating ffmpeg/ffprobe and probing files (used by validation, engines, verification)."""
