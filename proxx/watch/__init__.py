"""Watch folders: jobs for new media files once they stop growing, and an inbox of JobSpec JSON files."""
