"""The FFmpeg engine plugin for proxx."""
