"""The ``loopline`` command line: thin commands over the SDK's :class:`~loopline.client.Client`.

This package also holds what every store command shares: the ``--uri`` and ``--json`` options
and :func:`open_client`. The client (and with it SQLAlchemy, httpx, ...) is imported only when a
command needs it, so ``loopline --help`` and ``loopline version`` start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from loopline.client.client import Client

__all__ = ["JsonOption", "UriOption", "open_client"]

UriOption = Annotated[
    str | None,
    typer.Option(
        "--uri",
        metavar="URI",
        help=(
            "Store to use: a folder, a database URL, or http(s)://host:port of a loopline "
            "server. Default: LOOPLINE_URI, else the embedded store in ./.loopline."
        ),
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")
]
PageTokenOption = Annotated[
    str | None, typer.Option(metavar="TOKEN", help="next_token of a previous page.")
]


def open_client(uri: str | None) -> Client:
    """The client a command works with: at ``uri``, else where the settings point.

    Settings are read from the environment here, at the entry point, and nowhere below.
    """
    from loopline.client.client import Client
    from loopline.config import Settings

    return Client(uri, settings=Settings())
