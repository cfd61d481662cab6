"""The inference server: served models, micro-batching, hot swap and the HTTP protocols.

- :mod:`loopline.serving.runtime`: a loaded model version and its fast predictor.
- :mod:`loopline.serving.decoding`: requests decoded straight into a 2-D float array in
  signature order, each cell checked against the signature.
- :mod:`loopline.serving.batching`: concurrent requests scored in one call on a worker thread.
- :mod:`loopline.serving.endpoint`: one served name (runtime + policy + logger + kill switch)
  and the background task that follows its alias (hot swap).
- :mod:`loopline.serving.app`: the raw ASGI app (Open Inference Protocol v2, MLflow's
  ``/invocations``, loopline's ``/deployments/{name}/predict``); :mod:`~loopline.serving.v2_binary`
  frames Triton's binary tensor data.

Nothing here is imported by ``import loopline``; numpy is imported when a model is loaded.
"""

from __future__ import annotations

__all__: list[str] = []
