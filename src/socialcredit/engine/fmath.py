"""Exponentials from IEEE basic operations, so that every engine and platform gives the same bits.

SQL engines take `exp` and `pow` from their platform's math library: DuckDB from the C library
(glibc here, another on macOS or Windows), Spark from Java's `StrictMath` (fdlibm). These agree
to within an ulp but not to the bit: on random inputs about one `exp` in ten differs in its last
bit between DuckDB and Spark. The scoring plan therefore writes its two exponentials (record
decay and the category sigmoid) with `+ - * /` and `floor` only, which IEEE 754 rounds exactly
the same everywhere, and `pow(2, n)` for an integer n, which is exact wherever the result is
representable (Java specifies it; C libraries are within one ulp, hence exact).

    2^x = 2^n * e^(f ln 2),  n = floor(x + 1/2),  f = x - n in [-1/2, 1/2]   (f is exact)
    e^x = 2^n * e^r,  n = floor(x log2(e) + 1/2),  r = x - n ln 2 (ln 2 split in two parts so
          that n ln2_hi is exact, as fdlibm does)
    e^r = sum_k r^k / k!,  k <= 15 (truncation below 1e-19), evaluated by Horner

Both are within about one ulp of the correctly rounded value. x is clamped first (2^x to
[-1000, 1000], e^x to [-700, 700]): beyond that the value is far below what fixed-point sums or
scores can see.
"""

from __future__ import annotations

import math

import ibis

DEGREE = 15
TAYLOR = [1 / math.factorial(k) for k in range(DEGREE + 1)]  # e^r
LN2 = math.log(2)
LN2_HI = 6.93147180369123816490e-01  # the high bits of ln 2 (fdlibm): n * LN2_HI is exact
LN2_LO = 1.90821492927058770002e-10  # ln 2 - LN2_HI
LOG2E = 1 / LN2


def _clamp(x: ibis.FloatingValue, limit: float) -> ibis.FloatingValue:
    return ibis.greatest(ibis.literal(-limit), ibis.least(ibis.literal(limit), x))


def _series(r: ibis.FloatingValue) -> ibis.FloatingValue:
    """e^r for |r| <= 1/2 by Horner's rule."""
    result: ibis.FloatingValue = ibis.literal(TAYLOR[DEGREE], type="float64")
    for coefficient in reversed(TAYLOR[:DEGREE]):
        result = result * r + coefficient
    return result


def _power_of_two(n: ibis.FloatingValue) -> ibis.FloatingValue:
    power: ibis.FloatingValue = ibis.literal(2.0, type="float64").pow(n)
    return power


def _staged(t: ibis.Table, columns: dict[str, ibis.FloatingValue], reduce: Reduction) -> ibis.Table:
    """Add `columns` in stages (one projection each), so that no engine sees the argument
    written out once per term of the series: SQL has no `let`, Ibis does not inline a column
    of an inner projection, and each stage refers to the previous one's columns by name."""
    if not columns:
        return t
    names = list(columns)
    t = t.mutate(**{f"_x{i}": x for i, x in enumerate(columns.values())})
    t = t.mutate(**{f"_n{i}": reduce.n(t[f"_x{i}"]) for i in range(len(names))})
    t = t.mutate(**{f"_r{i}": reduce.r(t[f"_x{i}"], t[f"_n{i}"]) for i in range(len(names))})
    t = t.mutate(
        **{name: _power_of_two(t[f"_n{i}"]) * _series(t[f"_r{i}"]) for i, name in enumerate(names)}
    )
    return t.drop(*[f"_{p}{i}" for p in "xnr" for i in range(len(names))])


class Reduction:
    """x -> (n, r) with x = n ln2 + r (e^x), or x = n + r / ln2 (2^x)."""

    def __init__(self, base_two: bool) -> None:
        self.base_two = base_two

    def n(self, x: ibis.FloatingValue) -> ibis.FloatingValue:
        if self.base_two:
            x = _clamp(x, 1000.0)
            return (x + 0.5).floor().cast("float64")
        return (_clamp(x, 700.0) * LOG2E + 0.5).floor().cast("float64")

    def r(self, x: ibis.FloatingValue, n: ibis.FloatingValue) -> ibis.FloatingValue:
        if self.base_two:
            return (_clamp(x, 1000.0) - n) * LN2
        return (_clamp(x, 700.0) - n * LN2_HI) - n * LN2_LO


def with_exp2(t: ibis.Table, **columns: ibis.FloatingValue) -> ibis.Table:
    """`t` with each keyword added as a column 2^x (x must not be null: the clamp skips nulls)."""
    return _staged(t, columns, Reduction(base_two=True))


def with_exp(t: ibis.Table, **columns: ibis.FloatingValue) -> ibis.Table:
    """`t` with each keyword added as a column e^x (x must not be null)."""
    return _staged(t, columns, Reduction(base_two=False))
