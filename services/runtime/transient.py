"""Which failures are transient: the same work succeeds once the database or broker is back.

A consumer retries these (not acknowledged, redelivered after a backoff, order kept) instead of
dead-lettering a message that is fine. Everything else that escapes a handler is treated as
permanent. Classes checked against asyncpg 0.32 and aiokafka 0.14.
"""

import asyncpg
from aiokafka.errors import KafkaError, KafkaTimeoutError

# By class, with asyncpg's hierarchy: PostgresConnectionError covers 08xxx (ConnectionDoesNotExist,
# ConnectionFailure, ConnectionRejection, ClientCannotConnect, TransactionResolutionUnknown);
# AdminShutdown 57P01, CrashShutdown 57P02 and CannotConnectNow 57P03 are operator interventions
# (restart, failover), but their parent also holds QueryCanceled 57014, named on its own below.
_TRANSIENT_DATABASE_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    # 25006: a write reached a server that became a read-only replica in a failover.
    asyncpg.ReadOnlySQLTransactionError,
    # 53300: the server is full now; connections free up.
    asyncpg.TooManyConnectionsError,
    # 40P01 and 40001: PostgreSQL itself says to run the transaction again.
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    # 55P03: a lock_timeout (or NOWAIT) ran out behind another transaction.
    asyncpg.LockNotAvailableError,
    # 57014: statement_timeout under load; a statement that always times out blocks its
    # partition, which the retry metric and lag show, rather than parking a valid command.
    asyncpg.QueryCanceledError,
    # asyncpg's own state errors: after pg_terminate_backend the pool handed out a connection
    # still reading its termination ("cannot switch to state 15; another operation (2) is in
    # progress", seen in the failover test); also no server matching target_session_attrs in a
    # failover, and a statement cache outdated by a migration. The next connection succeeds.
    asyncpg.InternalClientError,
)

# InterfaceError is mostly misuse of the API (DataError: a bad argument, which would fail again);
# only these messages say the connection or the pool went away underneath the work.
_CLOSED_INTERFACE_MESSAGES = ("connection is closed", "pool is closing", "pool is closed")

# OSError subclasses that are about files, not the network: a missing template fails every time.
_PERMANENT_OS_ERRORS: tuple[type[OSError], ...] = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


# The classes among which is_transient finds the transient failures (for exception handlers).
CANDIDATES: tuple[type[Exception], ...] = (
    *_TRANSIENT_DATABASE_ERRORS,
    asyncpg.InterfaceError,
    KafkaError,
    OSError,
)


def is_transient(error: BaseException) -> bool:
    """True when retrying the same work later can succeed: connection loss, a restart or
    failover of PostgreSQL, a pool or broker timeout, a retriable Kafka error."""
    if isinstance(error, _TRANSIENT_DATABASE_ERRORS):
        return True
    if isinstance(error, asyncpg.InterfaceError):
        return any(text in str(error) for text in _CLOSED_INTERFACE_MESSAGES)
    if isinstance(error, KafkaError):
        # KafkaTimeoutError (a send that found no leader in time) is not marked retriable.
        return bool(error.retriable) or isinstance(error, KafkaTimeoutError)
    # TimeoutError (a pool acquire that waited too long) and ConnectionError are OSErrors.
    return isinstance(error, OSError) and not isinstance(error, _PERMANENT_OS_ERRORS)
