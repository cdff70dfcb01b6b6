"""A turn's read and store on the driver's own connection, past SQLAlchemy's execution layer.

Most turns are answered from one read and stored by one short write (chatbot/engine.py,
chatbot/storage/turns.py). Through a SQLAlchemy Session and Core execution, each of those
statements cost several times what the driver does: about a third of an FAQ turn's CPU. Here
the same Core statements are compiled once per dialect and run on a raw pooled connection,
their values converted by the columns' own type processors (JSON, UTC datetimes), so what is
written and read is exactly what the ORM writes and reads.

PostgreSQL stores the turn in ONE statement (data-modifying WITH clauses) in autocommit: the
conversation's advisory lock, the version check that moves the session on, the transcript
lines, the binding's last use and the turn log commit together or not at all, in one round
trip instead of seven (BEGIN, lock, four writes, COMMIT). The lock is joined into the session
update, so it is held before the row is touched; a turn that committed meanwhile has moved the
version on, and PostgreSQL re-checks the version against the committed row (READ COMMITTED's
re-evaluation of an updated row), so the store then writes nothing and the engine redoes the
turn under the lock. SQLite: `BEGIN IMMEDIATE` behind the writer queue, the four statements,
`COMMIT`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.crud import REQUIRED

from chatbot.storage import turns
from chatbot.storage.locks import lock_key
from chatbot.storage.models import UTCDateTime


_REQUIRED = object()  # a bound value the statement has no literal for: the caller must give it


class DriverStatement:
    """A Core statement compiled for one dialect, run with the driver's `execute`."""

    def __init__(self, statement, dialect: Dialect, column_keys: list[str] | None = None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        self.sql = compiled.string
        self.names = compiled.positiontup  # qmark (SQLite): the order of the values; else None
        self.defaults = dict(compiled.params)  # literals of the statement (status = 'open', LIMIT 1)
        self.processors = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[bind.key] = processor
        # qmark: each position's name, literal and processor, so a call is one pass in order.
        # An INSERT's columns come with SQLAlchemy's own REQUIRED marker as their "literal".
        self._index = {name: n for n, name in enumerate(self.names or ())}
        self._positions = None if self.names is None else tuple(
            (name, _REQUIRED if self.defaults.get(name, REQUIRED) is REQUIRED else self.defaults[name],
             self.processors.get(name)) for name in self.names)

    def parameters(self, values: dict):
        if self._positions is not None:
            ordered = []
            for name, default, processor in self._positions:
                value = values.get(name, default)
                if value is _REQUIRED:
                    raise KeyError(name)
                ordered.append(value if processor is None else processor(value))
            return tuple(ordered)
        merged = {**self.defaults, **values}
        for name, processor in self.processors.items():
            if name in merged:
                merged[name] = processor(merged[name])
        return merged

    def fill(self, ordered: list, name: str, value) -> None:
        """Set `name`'s value in a list made from `parameters` (qmark), converted as there."""
        processor = self.processors.get(name)
        ordered[self._index[name]] = value if processor is None else processor(value)


def _result_processors(statement, dialect: Dialect) -> list:
    return [column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns]


_TURN_COLUMNS = ("session_id", "channel", "user_id", "message_id", "text_digest", "text", "intent",
                 "confidence", "entities", "outcome", "steps", "replies", "state", "ranking",
                 "latency_ms", "created_at")
_JSON_TURN_COLUMNS = frozenset({"entities", "steps", "replies", "state", "ranking"})
_FILLED_AT_STORE = frozenset({"session_id", "latency_ms", "created_at"})  # not in _turn_values


def _pg_store_sql() -> str:
    """The whole store of a turn as one PostgreSQL statement (see the module docstring)."""
    turn_values = ", ".join(
        "moved.id" if name == "session_id" else f"%({name})s::json" if name in _JSON_TURN_COLUMNS
        else f"%({name})s" for name in _TURN_COLUMNS)
    return f"""
WITH locked AS (SELECT pg_advisory_xact_lock(%(lock_key)s) AS held),
moved AS (
    UPDATE chat_sessions SET state = %(new_state)s::json, last_active_at = %(now)s,
        customer_id = %(customer_id)s, version = chat_sessions.version + 1
    FROM locked
    WHERE chat_sessions.id = %(read_id)s AND chat_sessions.version = %(read_version)s
        AND chat_sessions.mode = 'bot' AND chat_sessions.status = 'open'
    RETURNING chat_sessions.id
),
lines AS (
    INSERT INTO chat_messages (session_id, channel, user_id, sender, text, created_at)
    SELECT moved.id, %(channel)s, %(user_id)s, line.sender, line.text, %(now)s
    FROM moved, unnest(%(senders)s::text[], %(texts)s::text[]) WITH ORDINALITY AS line(sender, text, n)
    ORDER BY line.n
),
used AS (
    UPDATE channel_bindings SET last_used_at = %(now)s
    FROM moved
    WHERE %(touch_binding)s AND channel_bindings.channel = %(channel)s AND channel_bindings.user_id = %(user_id)s
),
logged AS (
    INSERT INTO turn_log ({", ".join(_TURN_COLUMNS)})
    SELECT {turn_values} FROM moved
)
SELECT count(*) FROM moved"""


@dataclass(frozen=True)
class _Converters:
    when: object  # UTC datetime -> what the driver takes
    json: object  # dict/list -> what the driver takes


class TurnDriver:
    """`read` and `store` of chatbot/storage/turns.py on a DBAPI connection of `dialect`."""

    def __init__(self, dialect: Dialect) -> None:
        self.postgresql = dialect.name == "postgresql"
        self._read = DriverStatement(turns.CONVERSATION, dialect)
        self._read_results = _result_processors(turns.CONVERSATION, dialect)
        self._to_db = _Converters(
            UTCDateTime().dialect_impl(dialect).bind_processor(dialect) or (lambda value: value),
            JSON().dialect_impl(dialect).bind_processor(dialect) or (lambda value: value))
        if self.postgresql:
            self._store_sql = re.sub(r"\n\s*", " ", _pg_store_sql()).strip()
        else:
            self._move = DriverStatement(turns.MOVE_SESSION_ON, dialect)
            self._add_message = DriverStatement(
                turns.ADD_MESSAGES, dialect,
                column_keys=["session_id", "channel", "user_id", "sender", "text", "created_at"])
            self._touch = DriverStatement(turns.TOUCH_BINDING, dialect)
            self._add_turn = DriverStatement(turns.ADD_TURN, dialect, column_keys=list(_TURN_COLUMNS))

    def read(self, connection, channel: str, user_id: str, message_id: str | None) -> turns.Conversation:
        cursor = connection.cursor()
        try:
            cursor.execute(self._read.sql, self._read.parameters(
                {"channel": channel, "user_id": user_id, "message_id": message_id}))
            row = cursor.fetchone()
        finally:
            cursor.close()
        values = [value if convert is None else convert(value) for value, convert in zip(row, self._read_results)]
        return turns.conversation_of(*values)

    def store(self, connection, turn: turns.AnsweredTurn, now: datetime, latency_ms: float,
              logged_at: datetime) -> bool:
        """Write the turn if its session is unchanged since it was read; False (nothing
        written) otherwise. `now`: the turn's time (session, transcript); `logged_at`: the
        turn log's, at the end of the turn as the engine's other path writes it. SQLite: the
        caller holds the writer queue."""
        return self.store_prepared(connection, self.prepare(turn, now), latency_ms, logged_at)

    def prepare(self, turn: turns.AnsweredTurn, now: datetime) -> dict:
        """Every value of the store but the turn log's latency and time, converted for the
        driver: made before the writer queue, so the queue is held only for the statements."""
        session = turn.conversation.session
        if self.postgresql:
            to_db = self._to_db
            return {
                "lock_key": lock_key(turn.channel, turn.user_id),
                "new_state": to_db.json(turn.state), "now": to_db.when(now),
                "customer_id": turn.conversation.customer_id, "read_id": session.id,
                "read_version": session.version, "channel": turn.channel, "user_id": turn.user_id,
                "senders": ["user", *(["bot"] * len(turn.replies))], "texts": [turn.user_text, *turn.replies],
                "touch_binding": turn.conversation.binding is not None,
                **self._turn_values(turn),
            }
        line = {"session_id": session.id, "channel": turn.channel, "user_id": turn.user_id, "created_at": now}
        return {
            "move": self._move.parameters({
                "read_id": session.id, "read_version": session.version, "new_state": turn.state,
                "now": now, "new_customer_id": turn.conversation.customer_id}),
            "lines": [self._add_message.parameters({**line, "sender": sender, "text": text})
                      for sender, text in (("user", turn.user_text), *(("bot", text) for text in turn.replies))],
            "touch": self._touch.parameters({"b_channel": turn.channel, "b_user_id": turn.user_id, "now": now})
            if turn.conversation.binding is not None else None,
            "turn": list(self._add_turn.parameters(
                {**turn.turn_log, "session_id": session.id, "latency_ms": None, "created_at": None})),
        }

    def store_prepared(self, connection, prepared: dict, latency_ms: float,
                       logged_at: datetime) -> bool:
        """`store` of values made by `prepare`, the turn log's latency and time given now."""
        if self.postgresql:
            values = {**prepared, "latency_ms": latency_ms, "created_at": self._to_db.when(logged_at)}
            cursor = connection.cursor()
            try:
                cursor.execute(self._store_sql, values)
                return cursor.fetchone()[0] == 1
            finally:
                cursor.close()
        values, turn_row = prepared, list(prepared["turn"])
        self._add_turn.fill(turn_row, "latency_ms", latency_ms)
        self._add_turn.fill(turn_row, "created_at", logged_at)
        cursor = connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute(self._move.sql, values["move"])
            if cursor.rowcount != 1:
                connection.rollback()
                return False
            cursor.executemany(self._add_message.sql, values["lines"])
            if values["touch"] is not None:
                cursor.execute(self._touch.sql, values["touch"])
            cursor.execute(self._add_turn.sql, turn_row)
            connection.commit()
            return True
        except BaseException:
            connection.rollback()
            raise
        finally:
            cursor.close()

    def _turn_values(self, turn: turns.AnsweredTurn) -> dict:
        """The turn-log columns as PostgreSQL's store statement takes them (JSON through the
        column's processor, None included, as SQLite's statement gets it), but for the
        latency and the time, which the store adds."""
        row = dict(turn.turn_log)
        for name in _JSON_TURN_COLUMNS:
            row[name] = self._to_db.json(row.get(name))
        return {name: row.get(name) for name in _TURN_COLUMNS if name not in _FILLED_AT_STORE}
