"""DATA in two parts: the server has the message but keeps it only once its final `.` is sent."""

from __future__ import annotations

import socket

import aiosmtplib
import pytest
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sending.connection import (
    Endpoint,
    SMTPFailure,
    Stage,
    close_quietly,
    end_message,
    open_connection,
    run_sync,
    start_message,
)
from app.sending.smtp_data import wire_form

MESSAGE = (
    b"Subject: Two parts\r\nFrom: a@sender.example\r\nTo: b@rcpt.example\r\n\r\n"
    b"first line\r\n.a line that starts with a dot\r\n.\r\nlast line\r\n"
)


def endpoint(sink) -> Endpoint:
    return Endpoint(sink.host, sink.port, "none", "", "", 5, allow_private_hosts=True)


def test_an_ended_message_arrives_whole_with_its_leading_dots(smtp_sink):
    async def send() -> None:
        connection = await open_connection(endpoint(smtp_sink))
        data = await start_message(connection, MESSAGE, "a@sender.example", "b@rcpt.example")
        await end_message(connection, data)
        await close_quietly(connection)

    run_sync(send)
    [received] = smtp_sink.messages
    assert received.raw.endswith(
        b"\r\n\r\nfirst line\r\n.a line that starts with a dot\r\n.\r\nlast line\r\n"
    )


def test_the_server_has_the_body_before_the_end_and_keeps_nothing_when_it_is_abandoned(smtp_sink):
    async def abandon_then_send_another() -> tuple[int, bool]:
        connection = await open_connection(endpoint(smtp_sink))
        data = await start_message(connection, MESSAGE, "a@sender.example", "b@rcpt.example")
        data_commands_before_end = smtp_sink.script.seen("DATA")
        data.abandon()
        dropped = not connection.is_connected
        again = await open_connection(endpoint(smtp_sink))
        await end_message(again, await start_message(again, MESSAGE, "a@sender.example", "c@rcpt.example"))
        await close_quietly(again)
        return data_commands_before_end, dropped

    data_commands_before_end, dropped = run_sync(abandon_then_send_another)
    assert data_commands_before_end == 0
    assert dropped
    assert smtp_sink.addresses_received() == {"c@rcpt.example": 1}


def test_a_refused_end_is_a_failure_at_data_and_the_connection_goes_on(smtp_sink):
    smtp_sink.script.add("DATA", "554 5.6.0 Message refused", once=True)

    async def send_two() -> SMTPFailure:
        connection = await open_connection(endpoint(smtp_sink))
        data = await start_message(connection, MESSAGE, "a@sender.example", "b@rcpt.example")
        with pytest.raises(SMTPFailure) as refused:
            await end_message(connection, data)
        await end_message(
            connection, await start_message(connection, MESSAGE, "a@sender.example", "c@x.example")
        )
        await close_quietly(connection)
        return refused.value

    failure = run_sync(send_two)
    assert (failure.stage, failure.code, failure.message) == (Stage.DATA, 554, "5.6.0 Message refused")
    assert isinstance(failure.__cause__, aiosmtplib.SMTPDataError)
    assert smtp_sink.addresses_received() == {"c@x.example": 1}


def test_a_connection_dropped_before_the_end_is_a_failure_at_data(smtp_sink):
    smtp_sink.script.drop_connection(stage="DATA")

    async def send() -> SMTPFailure:
        connection = await open_connection(endpoint(smtp_sink))
        data = await start_message(connection, MESSAGE, "a@sender.example", "b@rcpt.example")
        with pytest.raises(SMTPFailure) as dropped:
            await end_message(connection, data)
        assert not connection.is_connected
        return dropped.value

    failure = run_sync(send)
    assert failure.stage is Stage.DATA
    assert failure.code is None
    assert smtp_sink.count == 0


def test_the_final_dot_goes_out_at_once_not_after_the_servers_delayed_ack(smtp_sink):
    """Sent alone after its body, the end would wait for the server's delayed ACK (40 ms a message)
    under Nagle's algorithm: the connection turns it off."""

    async def nodelay() -> int:
        connection = await open_connection(endpoint(smtp_sink))
        sock = connection.transport.get_extra_info("socket")
        try:
            return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        finally:
            await close_quietly(connection)

    assert run_sync(nodelay)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"text", b".", b"..", b"\r\n", b"\n", b"\r", b" ", b".x"]), max_size=30))
def test_the_wire_form_is_the_one_aiosmtplib_makes_of_any_message(parts):
    message = b"".join(parts)
    assert wire_form(message) == PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message))
