"""Triton's binary tensor data extension of the V2 infer route: request and response framing.

A request with the ``Inference-Header-Content-Length: N`` header carries N bytes of JSON, then
the raw bytes of each input whose ``parameters.binary_data_size`` is set, in input order
(row-major, little-endian, the input's datatype; BYTES elements are each prefixed with their
4-byte little-endian length). :func:`read_request` turns such a body into the JSON document the
JSON path decodes, each binary input's bytes into its ``data``. Without the header it is the
plain JSON parse, nothing more.

A request that asks for binary outputs (``parameters.binary_data_output: true``, or
``parameters.binary_data: true`` on a requested output, which wins) gets them back the same way:
:func:`answer` frames the JSON header and the outputs' bytes, each output with its
``binary_data_size``.
"""

from __future__ import annotations

import struct
from typing import Any

from loopline.serving.http import Answer, HttpError, dumps, loads, ok

__all__ = ["HEADER", "answer", "decode_tensor", "encode_tensor", "read_request"]

HEADER = b"inference-header-content-length"
"""The request and response header (lower case, as ASGI gives header names)."""

_NUMPY = {
    "BOOL": "<u1",
    "UINT8": "<u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "INT8": "<i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
    "BF16": "<u2",
}
_PREFIX = struct.Struct("<I")


def read_request(body: bytes, header: bytes | None) -> Any:
    """The request's JSON document, binary inputs' bytes decoded into their ``data``.

    Examples:
        >>> read_request(b'{"inputs": []}', None)
        {'inputs': []}
        >>> body = b'{"inputs":[{"name":"x","shape":[2],"datatype":"INT32",'
        >>> body += b'"parameters":{"binary_data_size":8}}]}'
        >>> document = read_request(body + bytes([1, 0, 0, 0, 2, 0, 0, 0]), str(len(body)).encode())
        >>> document["inputs"][0]["data"], document["inputs"][0]["parameters"]
        ([1, 2], {})
    """
    if header is None:
        return loads(body)
    length = _header_length(header)
    if length > len(body):
        raise HttpError(
            400,
            f"Inference-Header-Content-Length is {length} but the request body has only "
            f"{len(body)} bytes.",
        )
    document = loads(body[:length])
    inputs = document.get("inputs") if isinstance(document, dict) else None
    offset = length
    for position, tensor in enumerate(inputs if isinstance(inputs, list) else []):
        parameters = tensor.get("parameters") if isinstance(tensor, dict) else None
        if not isinstance(parameters, dict) or "binary_data_size" not in parameters:
            continue
        label = f"inputs[{position}] ({tensor.get('name')!r})"
        size = parameters["binary_data_size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise HttpError(
                400, f"{label}: binary_data_size must be a non-negative integer; got {size!r}."
            )
        if tensor.get("data") is not None:
            raise HttpError(400, f"{label} has both 'data' and binary_data_size; send one.")
        if offset + size > len(body):
            raise HttpError(
                400,
                f"{label}: binary_data_size is {size} but only {len(body) - offset} bytes of "
                "binary data remain in the request body.",
            )
        chunk = body[offset : offset + size]
        offset += size
        tensor["data"] = decode_tensor(chunk, tensor.get("datatype"), tensor.get("shape"), label)
        tensor["parameters"] = {k: v for k, v in parameters.items() if k != "binary_data_size"}
    if offset != len(body):
        raise HttpError(
            400,
            f"The request body has {len(body) - offset} bytes after the JSON header and the "
            "inputs' binary_data_size bytes; every binary byte must belong to an input.",
        )
    return document


def _header_length(header: bytes) -> int:
    text = header.decode("latin-1").strip()
    if not text.isascii() or not text.isdigit():
        sign = "a negative" if text.startswith("-") else "not an"
        raise HttpError(
            400,
            f"Inference-Header-Content-Length must be a non-negative integer (the JSON header's "
            f"byte length); got {text!r}, {sign} integer.",
        )
    return int(text)


def decode_tensor(chunk: bytes, datatype: Any, shape: Any, label: str) -> list[Any]:
    """The flat, row-major values of a binary tensor (BYTES elements as text).

    Examples:
        >>> decode_tensor(bytes([0, 0, 128, 63]), "FP32", [1], "x")
        [1.0]
        >>> decode_tensor(b"\\x02\\x00\\x00\\x00hi", "BYTES", [1], "x")
        ['hi']
    """
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise HttpError(
            400, f"{label}: a binary input needs a shape of non-negative integers; got {shape!r}."
        )
    count = 1
    for dimension in shape:
        count *= dimension
    if datatype == "BYTES":
        return _decode_bytes(chunk, count, label)
    if not isinstance(datatype, str) or datatype not in _NUMPY:
        raise HttpError(
            400,
            f"{label}: unknown datatype {datatype!r} for binary data; expected one of "
            f"{sorted([*_NUMPY, 'BYTES'])}.",
        )
    import numpy as np

    dtype = np.dtype(_NUMPY[datatype])
    if len(chunk) != count * dtype.itemsize:
        raise HttpError(
            400,
            f"{label}: binary_data_size is {len(chunk)} bytes but shape {shape} of {datatype} "
            f"needs {count * dtype.itemsize} bytes ({count} x {dtype.itemsize}).",
        )
    values = np.frombuffer(chunk, dtype=dtype)
    if datatype == "BOOL":
        return (values != 0).tolist()  # type: ignore[no-any-return]
    if datatype == "BF16":
        values = (values.astype("<u4") << 16).view("<f4")
    return values.tolist()  # type: ignore[no-any-return]


def _decode_bytes(chunk: bytes, count: int, label: str) -> list[Any]:
    values: list[Any] = []
    offset = 0
    while offset < len(chunk):
        if offset + 4 > len(chunk):
            raise HttpError(
                400, f"{label}: BYTES element {len(values)} has a truncated 4-byte length prefix."
            )
        (size,) = _PREFIX.unpack_from(chunk, offset)
        offset += 4
        if offset + size > len(chunk):
            raise HttpError(
                400,
                f"{label}: BYTES element {len(values)} declares {size} bytes but only "
                f"{len(chunk) - offset} remain in its binary data.",
            )
        try:
            values.append(chunk[offset : offset + size].decode("utf-8"))
        except UnicodeDecodeError:
            raise HttpError(400, f"{label}: BYTES element {len(values)} is not UTF-8.") from None
        offset += size
    if len(values) != count:
        raise HttpError(
            400,
            f"{label}: the binary data holds {len(values)} BYTES elements but the shape needs "
            f"{count}.",
        )
    return values


def encode_tensor(data: list[Any], datatype: str) -> bytes:
    """The binary form of a flat tensor (BYTES: text as UTF-8, null as an empty element).

    Examples:
        >>> encode_tensor([1, 2], "INT32")
        b'\\x01\\x00\\x00\\x00\\x02\\x00\\x00\\x00'
        >>> encode_tensor(["hi", None], "BYTES")
        b'\\x02\\x00\\x00\\x00hi\\x00\\x00\\x00\\x00'
    """
    if datatype == "BYTES":
        parts: list[bytes] = []
        for value in data:
            raw = b"" if value is None else str(value).encode("utf-8")
            parts += (_PREFIX.pack(len(raw)), raw)
        return b"".join(parts)
    import numpy as np

    return bytes(np.asarray(data, dtype=_NUMPY[datatype]).tobytes())


def answer(response: dict[str, Any], request: Any) -> Answer:
    """``response`` as JSON, or as JSON header + binary outputs when the request asks for them.

    Examples:
        >>> request = {"parameters": {"binary_data_output": True}}
        >>> out = {"name": "y", "datatype": "INT64", "shape": [1], "data": [7]}
        >>> framed = answer({"outputs": [out]}, request)
        >>> length = int(dict(framed.headers)[HEADER])
        >>> loads(framed.body[:length])["outputs"][0]["parameters"], framed.body[length:]
        ({'binary_data_size': 8}, b'\\x07\\x00\\x00\\x00\\x00\\x00\\x00\\x00')
    """
    wanted = _binary_outputs(request)
    if not wanted:
        return ok(response)
    chunks = []
    for tensor in response["outputs"]:
        if wanted is not True and tensor["name"] not in wanted:
            continue
        raw = encode_tensor(tensor.pop("data"), tensor["datatype"])
        tensor["parameters"] = {**tensor.get("parameters", {}), "binary_data_size": len(raw)}
        chunks.append(raw)
    header = dumps(response)
    return Answer(
        200,
        b"".join([header, *chunks]),
        b"application/octet-stream",
        ((HEADER, str(len(header)).encode()),),
    )


def _binary_outputs(request: Any) -> set[Any] | bool:
    """True: every output binary; a set: those outputs; empty: plain JSON."""
    if not isinstance(request, dict):
        return False
    parameters = request.get("parameters")
    everything = isinstance(parameters, dict) and parameters.get("binary_data_output") is True
    outputs = request.get("outputs")
    if not isinstance(outputs, list):
        return everything
    wanted: set[Any] = set()
    for output in outputs:
        own = output.get("parameters") if isinstance(output, dict) else None
        flag = own.get("binary_data") if isinstance(own, dict) else None
        if isinstance(output, dict) and (flag is True or (flag is None and everything)):
            wanted.add(output.get("name"))
    return wanted
