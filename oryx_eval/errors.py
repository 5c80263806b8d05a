"""One exception hierarchy for the harness; the CLI prints the message and exits non-zero."""


class OryxEvalError(Exception):
    """Base class of every error the harness raises on purpose."""


class TaskConfigError(OryxEvalError):
    """A task file is invalid (names the file, field and reason)."""


class DatasetError(OryxEvalError):
    """A dataset source cannot be read or does not match its declared shape."""


class MediaError(OryxEvalError):
    """A video or image cannot be found or decoded (fails its sample, not the run)."""


class BackendError(OryxEvalError):
    """A backend cannot be built or failed as a whole."""


class PrerequisiteError(OryxEvalError):
    """An optional package is missing; the message says how to install it."""


class UnknownNameError(OryxEvalError, KeyError):
    """A registry lookup of a name that is not registered."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class RunFailedError(OryxEvalError):
    """A run stopped: too many failed samples, or a systemic (not per-sample) error. Records are kept."""


class RunStoreError(OryxEvalError):
    """A run folder cannot be created, resumed or merged as asked (names the folder and the reason)."""


class CorruptRecordsError(RunStoreError):
    """A samples file holds a line that is not a record (not at its torn tail)."""


class MetricNotComputed(Exception):
    """A metric cannot be computed for this run (e.g. ``not computed: java missing``).

    Not an ``OryxEvalError``: the aggregation records the metric as NaN with this message as its note
    (never as 0) and the run goes on.
    """


class JudgeError(OryxEvalError):
    """A run folder cannot be judged as asked (no generation records, judged before by another judge)."""
