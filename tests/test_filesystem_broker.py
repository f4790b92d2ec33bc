"""The embedded broker never hands a worker a half-written message."""

from __future__ import annotations

import threading

from kombu import Connection, Queue

from app.filesystem_broker import Transport

MESSAGES = 1000
RACE = Queue("race", routing_key="race")


def connection_to(folder) -> Connection:
    (folder / "control").mkdir(exist_ok=True)
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder / "control"),
        "polling_interval": 0.001,
    }
    return Connection(transport=Transport, transport_options=options)


def test_a_consumer_racing_a_producer_reads_every_message_whole(tmp_path):
    def produce() -> None:
        with connection_to(tmp_path) as connection:
            producer = connection.Producer()
            for number in range(MESSAGES):
                producer.publish(
                    {"number": number, "padding": "x" * 4000}, routing_key="race", declare=[RACE]
                )

    producer = threading.Thread(target=produce)
    producer.start()
    received = []
    with connection_to(tmp_path) as connection:
        queue = connection.SimpleQueue(RACE)
        while len(received) < MESSAGES:
            message = queue.get(timeout=10)
            received.append(message.payload["number"])
            message.ack()
        queue.close()
    producer.join()
    assert sorted(received) == list(range(MESSAGES))
