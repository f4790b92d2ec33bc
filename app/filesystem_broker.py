"""Kombu's filesystem transport, with messages written atomically.

The stock transport creates a message file and then writes into it, while a consumer may already move
and read it: the consumer reads an empty file, fails with a JSONDecodeError and the worker dies
(seen under `make run` with beat ticking every few seconds). Here a message is written under a name no
consumer looks at and renamed into the queue folder once complete; a rename within one folder is atomic.

The stock transport also needs its folders to exist: a worker started without them dies at once with a
FileNotFoundError. Here a channel makes them when it opens, so nothing is created before a worker or
producer connects (importing the settings creates no folder).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for folder in (self.data_folder_in, self.data_folder_out, self.control_folder):
            Path(folder).mkdir(parents=True, exist_ok=True)

    # kombu's own filesystem Channel renames the base class's `message` to `payload` and adds **kwargs.
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as error:
            raise ChannelError(f"Cannot add file {final!r} to directory") from error


class Transport(filesystem.Transport):
    Channel = Channel
