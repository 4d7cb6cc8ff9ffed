import pytest

from ingest import errors
from ingest.errors import CorruptInput, IngestError, InvalidRecords


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_is_an_ingest_error(name: str) -> None:
    assert issubclass(getattr(errors, name), IngestError)


def test_invalid_records_is_a_corrupt_input() -> None:
    assert issubclass(InvalidRecords, CorruptInput)


def test_message_is_the_str() -> None:
    assert str(CorruptInput("damaged PDF")) == "damaged PDF"
