"""The kit for plugin authors: pytest fixtures (`proxx.testing.plugin`, loaded by pytest through the
`pytest11` entry point whenever proxx is installed), the engine conformance suite
(`proxx.testing.conformance`), and the helpers behind both (`proxx.testing.kit`)."""

from proxx.testing.kit import JobOutcome, intent_for, run_job, write_repository

__all__ = ["JobOutcome", "intent_for", "run_job", "write_repository"]
