"""Log lines: written in batches but in order, and request ids that never repeat."""

from __future__ import annotations

import io
import logging
import re
import time

from service.logs import BatchedStreamHandler, new_request_id


def _logger(stream: io.StringIO, interval: float) -> tuple[logging.Logger, BatchedStreamHandler]:
    name = f"test-batched-{id(stream)}"
    handler = BatchedStreamHandler(stream, interval=interval, batched=(name,))
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger, handler


def test_info_lines_wait_for_the_next_batch() -> None:
    stream = io.StringIO()
    logger, _ = _logger(stream, interval=60.0)
    logger.info("one")
    assert stream.getvalue() == ""


def test_a_warning_is_written_at_once_after_the_lines_before_it() -> None:
    stream = io.StringIO()
    logger, _ = _logger(stream, interval=60.0)
    logger.info("one")
    logger.warning("two")
    assert stream.getvalue() == "INFO one\nWARNING two\n"


def test_lines_of_other_loggers_are_written_at_once_after_those_kept() -> None:
    stream = io.StringIO()
    logger, handler = _logger(stream, interval=60.0)
    logger.info("one")
    other = logging.getLogger(f"{logger.name}-other")
    other.propagate = False
    other.setLevel(logging.INFO)
    other.addHandler(handler)
    other.info("stopped")
    assert stream.getvalue() == "INFO one\nINFO stopped\n"


def test_kept_lines_are_written_within_the_interval() -> None:
    stream = io.StringIO()
    logger, _ = _logger(stream, interval=0.05)
    logger.info("one")
    deadline = time.monotonic() + 5.0
    while stream.getvalue() != "INFO one\n":
        assert time.monotonic() < deadline, "line not written within 5 s"
        time.sleep(0.01)


def test_flushing_writes_every_kept_line() -> None:
    stream = io.StringIO()
    logger, handler = _logger(stream, interval=60.0)
    logger.info("one")
    logger.info("two")
    handler.flush()
    assert stream.getvalue() == "INFO one\nINFO two\n"


def test_request_ids_are_32_hex_digits_and_never_repeat() -> None:
    ids = [new_request_id(None) for _ in range(1000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_plain_incoming_request_id_is_kept_and_a_strange_one_replaced() -> None:
    assert new_request_id("req-42") == "req-42"
    assert new_request_id("bad id\nwith newline") != "bad id\nwith newline"
