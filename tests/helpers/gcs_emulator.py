"""gcp-storage-emulator, made to treat a cut upload as GCS does.

GCS commits an upload only once its whole body has arrived. The emulator reads the body with
`rfile.read(Content-Length)`, which returns short when the client dies mid-body (a cancelled CI
job), and then stores the truncated bytes under the object's final name. Here a short body aborts
the request instead, so tests see the service's behaviour, not the emulator's artefact.
"""

from __future__ import annotations

import sys
from typing import Any

from gcp_storage_emulator import server
from gcp_storage_emulator.__main__ import main

_read_raw_data = server._read_raw_data


def _read_whole_body(handler: Any) -> bytes | None:
    data: bytes | None = _read_raw_data(handler)
    expected = handler.headers.get("Content-Length")
    if expected and len(data or b"") < int(expected):
        raise ConnectionAbortedError(f"upload cut after {len(data or b'')} of {expected} bytes: not stored")
    return data


server._read_raw_data = _read_whole_body

if __name__ == "__main__":
    main(sys.argv[1:])
