"""The history of a release alias, read from the transitions that moved it.

Promotions and rollbacks are transitions whose details name the ``action`` and the ``alias``;
retiring a version lists the aliases it lost under ``removed_aliases``. Read in order, they form
a stack: a promotion pushes the version, a rollback pops back to the version it restored, and a
retired version leaves the stack. The top is the current holder; below it, the candidates for
the next rollback, newest first.

Examples:
    >>> from loopline.entities import Transition
    >>> def move(version, action):
    ...     details = {"action": action, "alias": "champion"}
    ...     return Transition("m", version, "approved", "approved", "ci", "go", 0, details)
    >>> alias_holders([move(1, "promote"), move(2, "promote"), move(3, "promote")], "champion")
    [1, 2, 3]
    >>> alias_holders([move(1, "promote"), move(2, "promote"), move(1, "rollback")], "champion")
    [1]
"""

from __future__ import annotations

from collections.abc import Iterable

from loopline.entities import Transition

__all__ = ["alias_holders"]


def alias_holders(transitions: Iterable[Transition], alias: str) -> list[int]:
    """The versions ``alias`` named, oldest at the bottom, from a model's transitions in order."""
    stack: list[int] = []
    for item in transitions:
        action = item.details.get("action")
        if item.details.get("alias") == alias and action == "promote":
            if not stack or stack[-1] != item.version:
                stack.append(item.version)
        elif item.details.get("alias") == alias and action == "rollback":
            if stack:
                stack.pop()
            while stack and stack[-1] != item.version:
                stack.pop()
            if not stack:
                stack.append(item.version)
        elif alias in item.details.get("removed_aliases", ()):
            stack = [v for v in stack if v != item.version]
    return stack
