"""format_number: exact outputs in every style, and plain output that reads back."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tutor.errors import TutorError
from tutor.numfmt import STYLES, format_number

NAN = float("nan")
INF = float("inf")

# value, sig, unicode, latex, html, plain
CASES = [
    # fixed notation, trailing zeros removed
    (0.25, 3, "0.25", "0.25", "0.25", "0.25"),
    (0.0234567, 3, "0.0235", "0.0235", "0.0235", "0.0235"),
    (12.3456, 3, "12.3", "12.3", "12.3", "12.3"),
    (0.001, 3, "0.001", "0.001", "0.001", "0.001"),
    (0.5, 1, "0.5", "0.5", "0.5", "0.5"),
    (2 / 3, 4, "0.6667", "0.6667", "0.6667", "0.6667"),
    # integer digits are kept, never replaced by zeros
    (1234.5, 3, "1235", "1235", "1235", "1235"),
    (999.96, 3, "1000", "1000", "1000", "1000"),
    # half away from zero, on the exact binary value
    (0.125, 2, "0.13", "0.13", "0.13", "0.13"),
    (2.5, 1, "3", "3", "3", "3"),
    (2.675, 3, "2.67", "2.67", "2.67", "2.67"),  # 2.675 is 2.67499999... in binary
    # integers
    (64, 3, "64", "64", "64", "64"),
    (4.0, 3, "4", "4", "4", "4"),
    (-3, 3, "−3", "-3", "−3", "-3"),
    (123456.0, 2, "123456", "123456", "123456", "123456"),
    (1234567, 3, "1.23 × 10⁶", r"1.23 \times 10^{6}", "1.23&#8239;×&#8239;10<sup>6</sup>",
     "1.23e+06"),
    (10**400, 3, "1 × 10⁴⁰⁰", r"1 \times 10^{400}", "1&#8239;×&#8239;10<sup>400</sup>",
     "1e+400"),
    # scientific
    (9.54e-7, 3, "9.54 × 10⁻⁷", r"9.54 \times 10^{-7}", "9.54&#8239;×&#8239;10<sup>−7</sup>",
     "9.54e-07"),
    (1e-7, 3, "1 × 10⁻⁷", r"1 \times 10^{-7}", "1&#8239;×&#8239;10<sup>−7</sup>", "1e-07"),
    (-2.5e-12, 3, "−2.5 × 10⁻¹²", r"-2.5 \times 10^{-12}",
     "−2.5&#8239;×&#8239;10<sup>−12</sup>", "-2.5e-12"),
    (12345.6, 3, "1.23 × 10⁴", r"1.23 \times 10^{4}", "1.23&#8239;×&#8239;10<sup>4</sup>",
     "1.23e+04"),
    (6.02e23, 2, "6 × 10²³", r"6 \times 10^{23}", "6&#8239;×&#8239;10<sup>23</sup>", "6e+23"),
    (5e-324, 3, "4.94 × 10⁻³²⁴", r"4.94 \times 10^{-324}",
     "4.94&#8239;×&#8239;10<sup>−324</sup>", "4.94e-324"),
    (1.7976931348623157e308, 2, "1.8 × 10³⁰⁸", r"1.8 \times 10^{308}",
     "1.8&#8239;×&#8239;10<sup>308</sup>", "1.79769e+308"),  # 1.8e+308 reads back as inf
    # rounding that carries into the next decade
    (9.996e-7, 3, "1 × 10⁻⁶", r"1 \times 10^{-6}", "1&#8239;×&#8239;10<sup>−6</sup>", "1e-06"),
    (0.00099996, 3, "0.001", "0.001", "0.001", "0.001"),
    (9999.6, 3, "1 × 10⁴", r"1 \times 10^{4}", "1&#8239;×&#8239;10<sup>4</sup>", "1e+04"),
    (9.9996, 3, "10", "10", "10", "10"),
    (-9.96e-5, 2, "−1 × 10⁻⁴", r"-1 \times 10^{-4}", "−1&#8239;×&#8239;10<sup>−4</sup>",
     "-1e-04"),
    # zero and non-finite values
    (0.0, 3, "0", "0", "0", "0"),
    (-0.0, 3, "0", "0", "0", "0"),
    (0, 3, "0", "0", "0", "0"),
    (NAN, 3, "NaN", r"\mathrm{NaN}", "NaN", "NaN"),
    (INF, 3, "∞", r"\infty", "∞", "inf"),
    (-INF, 3, "−∞", r"-\infty", "−∞", "-inf"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "sig", "expected"), [(v, s, rest) for v, s, *rest in CASES])
def test_format_number_every_style(value: float, sig: int, expected: list[str]) -> None:
    assert [format_number(value, sig, style) for style in STYLES] == expected


def test_default_is_three_figures_unicode() -> None:
    assert format_number(0.000123456) == "1.23 × 10⁻⁴"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, "1"), (Fraction(1, 3), "0.333"), (-(2**70), "−1.18 × 10²¹")],
)
def test_other_number_types(value: float, expected: str) -> None:
    assert format_number(value) == expected


def test_numpy_scalars() -> None:
    np = pytest.importorskip("numpy")
    assert format_number(np.float32(0.1)) == "0.1"
    assert format_number(np.float64(9.54e-7), style="plain") == "9.54e-07"
    assert format_number(np.int64(-7)) == "−7"


@pytest.mark.parametrize(("sig", "style"), [(0, "unicode"), (18, "plain"), (True, "latex"),
                                            (3, "markdown"), (2.0, "html")])  # fmt: skip
def test_bad_options_raise_tutor_error(sig: int, style: str) -> None:
    format_number(1.5, 2, "html")  # cached: 2.0 == 2, but 2.0 is no count of figures
    with pytest.raises(TutorError):
        format_number(1.5, sig, style)  # type: ignore[arg-type]


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(deadline=None)
@given(finite, st.integers(min_value=1, max_value=17))
@example(9.995e-7, 3)
@example(0.00099995, 3)
@example(-1234.5, 2)
@example(5e-324, 1)
def test_plain_reads_back_within_sig_figs(x: float, sig: int) -> None:
    back = float(format_number(x, sig, "plain"))
    assert math.isclose(back, x, rel_tol=0.5 * 10 ** (1 - sig) * (1 + 1e-9), abs_tol=0)


@settings(deadline=None)
@given(finite | st.just(NAN) | st.just(INF) | st.just(-INF), st.integers(1, 17))
def test_all_styles_agree_and_stay_clean(x: float, sig: int) -> None:
    unicode = format_number(x, sig, "unicode")
    assert unicode.isprintable()
    assert "-" not in unicode
    assert "e" not in unicode.replace("NaN", "")
    assert "<" not in format_number(x, sig, "html").replace("<sup>", "").replace("</sup>", "")
    if x < 0:
        assert format_number(x, sig, "latex").startswith("-")
