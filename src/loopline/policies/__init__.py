"""Decision policies: declarative rules that turn model outputs (and inputs) into actions.

A :class:`DecisionPolicy` is declared in YAML, a dict or Python, validated on construction
(errors name the field path, e.g. ``routing.rules[2].when.score``) and identified by
``version``, the sha256 of its canonical JSON. Its parts, all optional:

- ``thresholds``: ordered score bands -> actions (``score >= 0.8 -> reject``...), a default;
- ``routing``: ordered rules (first match wins) on the score, the action and input fields -> queue;
- ``next_best_action``: candidate actions ranked by model score x value, eligibility rules, top-k;
- ``outliers``: bounds per feature (from a training profile or given) -> flag, optionally an action;
- ``control``: a share of requests gets the baseline action (sticky by request key), recorded.

The API the server and bulk scoring call (vectorised, numpy only, no pandas)::

    policy = DecisionPolicy.from_dict(spec)          # or from_yaml(text_or_path), or None
    batch = policy.decide(scores, inputs, request_keys=None, rng=None, classes=None, labels=None)
    batch.to_rows()      # [{"action", "rule", "queue", "route", "model_action", "control",
                         #   "outlier", "outlier_features", "ranked", "score"}, ...]
    batch.to_columns()   # the same as lists per key; batch.policy_version
    policy.to_dict(); policy.version; policy.check_inputs(columns)

``scores`` is an (n,) or (n, k) array or list (or a mapping of named outputs); ``inputs`` a
mapping column -> sequence, one dict row, a list of dict rows, or a table (Arrow, pandas). A server
passes the request's JSON rows as they came: one row then takes a plain-Python path (tens of
microseconds for a full policy), more rows the numpy one. Bad inputs raise InvalidArgumentError
with ``details["path"]`` naming the declaration part or input that failed.

Examples:
    >>> from loopline.policies import DecisionPolicy
    >>> policy = DecisionPolicy.from_dict({
    ...     "thresholds": {"bands": [{"min": 0.8, "action": "reject"},
    ...                              {"min": 0.5, "action": "review"}], "default": "approve"}})
    >>> policy.decide([0.9, 0.6, 0.1]).to_columns()["action"]
    ['reject', 'review', 'approve']
"""

from loopline.policies.batch import Decision, DecisionBatch
from loopline.policies.model import DecisionPolicy, resolve_policy
from loopline.policies.outliers import outlier_bounds
from loopline.policies.parts import (
    Band,
    CandidateAction,
    ControlGroup,
    NextBestAction,
    Outliers,
    Route,
    Routing,
    Thresholds,
)

__all__ = [
    "Band",
    "CandidateAction",
    "ControlGroup",
    "Decision",
    "DecisionBatch",
    "DecisionPolicy",
    "NextBestAction",
    "Outliers",
    "Route",
    "Routing",
    "Thresholds",
    "outlier_bounds",
    "resolve_policy",
]
