"""Readable default run names such as ``brisk-heron-417``."""

from __future__ import annotations

import random

__all__ = ["random_run_name"]

_ADJECTIVES = (
    "amber", "brisk", "calm", "clever", "crisp", "daring", "eager", "fierce", "gentle", "glad",
    "hardy", "keen", "lively", "lucid", "merry", "nimble", "placid", "proud", "quiet", "rapid",
    "sharp", "silent", "steady", "sunny", "swift", "tidy", "vivid", "warm", "wise", "zesty",
)  # fmt: skip
_NOUNS = (
    "badger", "bison", "crane", "dingo", "eagle", "ferret", "finch", "gecko", "heron", "ibis",
    "jackal", "koala", "lemur", "lynx", "marten", "newt", "ocelot", "otter", "panda", "quail",
    "raven", "seal", "shrike", "stoat", "tapir", "toad", "vole", "wren", "yak", "zebra",
)  # fmt: skip


def random_run_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(100, 999)}"
