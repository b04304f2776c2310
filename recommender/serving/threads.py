"""How a process that answers list requests uses the CPU: one request, one thread.

The list code multiplies small matrices (a pool of ~100 candidates by 384 dimensions) many
times per request. Left to itself, OpenBLAS splits each such product over every core, and the
hand-off costs far more than the product: on the 2-core reference machine, grouping one list's
candidates into stories took 16 ms with two BLAS threads and 0.13 ms with one. Concurrency in
a server comes from requests running side by side, so BLAS runs single-threaded there; vector
searches choose their threads per call (one query, one thread; a batch, every core; see
:mod:`index.flat`).
"""

from __future__ import annotations

__all__ = ["one_thread_per_process", "one_thread_per_request"]


def one_thread_per_request() -> None:
    """Make BLAS (numpy's and faiss's) and OpenMP single-threaded for the rest of this process.

    Call it once in a process that serves lists (the HTTP service, ``newsrec precompute``);
    batch jobs that multiply big matrices should not.
    """
    from threadpoolctl import threadpool_limits

    # OpenMP too: faiss opens a parallel region even to copy vectors out of an index.
    threadpool_limits(limits=1)


def one_thread_per_process() -> None:
    """Make BLAS and OpenMP single-threaded in this process, for a worker forked from a
    process that already used them.

    A forked child inherits OpenMP's thread pool as dead memory: the first parallel region
    (faiss copies vectors in one) would wait forever on threads that do not exist. With one
    thread, OpenMP runs every region in the calling thread.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
