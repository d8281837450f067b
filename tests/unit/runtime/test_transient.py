"""Which failures a consumer retries (transient) instead of dead-lettering the message."""

import asyncpg
import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
)
from pydantic import ValidationError

from services.runtime.transient import is_transient


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.CrashShutdownError("terminating connection because of crash of another server"),
        asyncpg.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.ConnectionFailureError("connection failure"),
        asyncpg.PostgresConnectionError("connection exception"),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.InterfaceError("pool is closing"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.DeadlockDetectedError("deadlock detected"),
        asyncpg.SerializationError("could not serialize access"),
        asyncpg.LockNotAvailableError("canceling statement due to lock timeout"),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
        asyncpg.InterfaceError(
            "cannot call Transaction.__aexit__(): the underlying connection is closed"
        ),
        TimeoutError(),  # a pool acquire that waited too long
        ConnectionRefusedError(111, "Connection refused"),
        OSError(113, "No route to host"),
        KafkaConnectionError("broker gone"),
        NotLeaderForPartitionError(),
        KafkaTimeoutError(),
    ],
    ids=lambda error: type(error).__name__,
)
def test_connection_loss_restarts_and_contention_are_transient(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.DataError("invalid input for query argument $1"),  # an InterfaceError too
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
        asyncpg.ProgramLimitExceededError("index row size exceeds maximum"),
        asyncpg.OperatorInterventionError("operator intervention"),
        MessageSizeTooLargeError(),
        FileNotFoundError(2, "No such file or directory"),
        PermissionError(13, "Permission denied"),
        ValueError("Exceeds the limit (4300 digits) for integer string conversion"),
        RecursionError("maximum recursion depth exceeded"),
        ValidationError.from_exception_data("Envelope", []),
        RuntimeError("bug"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_bugs_bad_data_and_refusals_are_not_transient(error: Exception) -> None:
    assert not is_transient(error)
