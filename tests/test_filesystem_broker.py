"""The embedded broker never hands a worker a half-written message, and makes its own folders."""

from __future__ import annotations

import threading

from kombu import Connection, Queue

from app.filesystem_broker import Transport

MESSAGES = 1000
RACE = Queue("race", routing_key="race")


def connection_to(folder) -> Connection:
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


def test_a_producer_connecting_first_makes_the_queue_and_control_folders(tmp_path):
    broker = tmp_path / "instance" / "broker"
    options = {"data_folder_in": str(broker / "queue"), "data_folder_out": str(broker / "queue")}
    options["control_folder"] = str(broker / "control")
    with Connection(transport=Transport, transport_options=options) as connection:
        connection.Producer().publish({"hello": 1}, routing_key="race", declare=[RACE])
    assert (broker / "control").is_dir()
    assert len(list((broker / "queue").glob("*.msg"))) == 1
