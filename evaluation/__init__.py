"""newsrec's offline evaluation and benchmarks."""

__all__: list[str] = []
