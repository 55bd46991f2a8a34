"""mathtext: LaTeX to Unicode, sanitized MathML, and finding $...$ in text."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tutor.mathtext import latex_to_mathml, latex_to_unicode, split_math, split_math_modes

MATHML = "{http://www.w3.org/1998/Math/MathML}"
ALLOWED_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "mtext", "mspace", "msup",
    "msub", "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable",
    "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose",
}  # fmt: skip

# --------------------------------------------------------------------------- latex_to_unicode

UNICODE_CASES = [
    # Greek letters
    (r"\alpha \beta \gamma \delta \epsilon \eta \theta \lambda \mu \sigma \omega",
     "αβγδϵηθλμσω"),  # juxtaposed, as LaTeX sets them
    (r"\Sigma, \Delta, \Gamma, \Omega, \Phi", "Σ, Δ, Γ, Ω, Φ"),
    (r"\varepsilon + \varphi + \phi", "ε + φ + ϕ"),
    (r"\Delta w", "Δw"),
    (r"\sigma (z)", "σ(z)"),
    (r"\alpha + \beta", "α + β"),
    # operators and relations
    (r"a \cdot b", "a · b"),
    (r"2\times10^{-7}", "2 × 10⁻⁷"),
    (r"x \approx 0.25", "x ≈ 0.25"),
    (r"a \le b \leq c \ge d \geq e", "a ≤ b ≤ c ≥ d ≥ e"),
    (r"a \ne b \neq c", "a ≠ b ≠ c"),
    (r"a \lt b \gt c", "a < b > c"),
    (r"\pm 1", "± 1"),
    (r"n \to \infty", "n → ∞"),
    (r"w \in \mathbb{R}", "w ∈ R"),
    # calculus symbols
    (r"\partial L", "∂L"),
    (r"\nabla_w \ell", "∇_w ℓ"),
    (r"\frac{\partial L}{\partial W_l}", "∂L/∂Wₗ"),
    (r"\sum_{l=1}^{L} x_l", "Σₗ₌₁ᴸ xₗ"),
    (r"\prod_{l=1}^{L} w_l \sigma'(z_l)", "Πₗ₌₁ᴸ wₗ σ′(zₗ)"),
    # roots and fractions
    (r"\sqrt{x}", "√x"),
    (r"\sqrt{x+1}", "√(x+1)"),
    (r"\sqrt{2}", "√2"),
    (r"\sqrt[3]{8}", "³√8"),
    (r"\frac{a}{b}", "a/b"),
    (r"\frac{1}{1+e^{-z}}", "1/(1+e⁻ᶻ)"),
    (r"\frac{2}{n_{in} + n_{out}}", "2/(nᵢₙ + nₒᵤₜ)"),
    (r"\frac{\sigma'(z)}{2}", "σ′(z)/2"),
    (r"\frac{f(x) + g(y)}{2}", "(f(x) + g(y))/2"),
    (r"\frac{(a)(b)}{c}", "((a)(b))/c"),
    (r"\dfrac{1}{4}", "1/4"),
    # superscripts
    ("x^2", "x²"),
    ("10^{-7}", "10⁻⁷"),
    ("h^{(l)}", "h⁽ˡ⁾"),
    ("W^T", "Wᵀ"),
    ("x^{0.5}", "x^(0.5)"),
    ("x^*", "x^*"),
    ("0.25^{10}", "0.25¹⁰"),
    (r"\tanh^2(z)", "tanh²(z)"),
    # subscripts
    ("w_l", "wₗ"),
    ("x_{l-1}", "xₗ₋₁"),
    ("W_{hh}", "Wₕₕ"),
    ("g_w", "g_w"),
    ("g_{wb}", "g_(wb)"),
    (r"a_{\text{max}}", "aₘₐₓ"),
    ("x_1^2", "x₁²"),
    # delimiters and norms
    (r"\left( \frac{a+b}{2} \right)", "((a+b)/2)"),
    (r"\left[ x \right]", "[x]"),
    (r"\left. x \right|", "x|"),
    (r"\lVert g \rVert_2", "‖g‖₂"),
    (r"\|g\|_2 \le c", "‖g‖₂ ≤ c"),
    (r"\left\| g \right\|", "‖g‖"),
    (r"\{ x \}", "{x}"),
    (r"\langle a, b \rangle", "⟨a, b⟩"),
    # text and font commands keep their content
    (r"\mathrm{Var}(w) = \frac{2}{n}", "Var(w) = 2/n"),
    (r"\text{fan-in} + 1", "fan-in + 1"),
    (r"\text{if } x > 0", "if x > 0"),
    (r"\operatorname{ReLU}(z)", "ReLU(z)"),
    (r"\mathbf{W}^T", "Wᵀ"),
    # function names
    (r"\log x", "log x"),
    (r"\exp(-z)", "exp(−z)"),
    (r"\tanh'(z) = 1 - \tanh^2(z)", "tanh′(z) = 1 − tanh²(z)"),
    (r"\max(0, z)", "max(0, z)"),
    (r"\min_i x_i", "minᵢ xᵢ"),
    # spacing
    (r"a\,b", "a b"),
    (r"a\;b", "a b"),
    (r"a\quad b", "a  b"),
    (r"a\qquad b", "a    b"),
    (r"\nabla\!L", "∇L"),
    (r"1~\text{ms}", "1 ms"),
    # primes, minus, accents, misc
    ("f'(z)", "f′(z)"),
    ("f''", "f′′"),
    (r"\sigma^\prime", "σ′"),
    ("-0.5", "−0.5"),
    (r"\hat{y}", "ŷ"),
    (r"\bar{x}", "x̄"),
    (r"\vec{ab}", "vec(ab)"),
    (r"\$5", "$5"),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", "1 2 3 4"),
    (r"\color{red}{x}", "x"),
    # unknown commands keep their name
    (r"\foo x", "foo x"),
    (r"\sgn(z)", "sgn(z)"),
    # broken input still gives something readable
    ("{", ""),
    ("}}}a", "a"),
    (r"\frac", "/"),
    (r"\frac{a}", "a/"),
    ("x^", "x"),
    (r"\sqrt[", "√"),
    ("\\", "\\"),
    ("", ""),
    ("  x  ", "x"),
    ("\x1b[31mred\x07", "[31mred"),
    ("a\nb\tc", "a b c"),
]  # fmt: skip


@pytest.mark.parametrize(("latex", "expected"), UNICODE_CASES)
def test_latex_to_unicode(latex: str, expected: str) -> None:
    assert latex_to_unicode(latex) == expected


@pytest.mark.parametrize(
    "latex",
    ["{" * 5000, "}" * 5000, r"\frac{" * 3000, r"\sqrt" * 5000, "^" * 5000, "x^{" * 3000,
     r"\left(" * 3000, r"\text{" * 3000, r"\sqrt[" * 3000, "\\" * 5001],
)  # fmt: skip
def test_latex_to_unicode_survives_deep_nesting(latex: str) -> None:
    assert latex_to_unicode(latex).isprintable()


@settings(deadline=None)
@given(st.text())
@example("\\")
@example("\x00\x01\x02")
@example("\ud800")
def test_latex_to_unicode_is_total_and_printable(src: str) -> None:
    out = latex_to_unicode(src)
    assert out.isprintable()
    assert out == out.strip()


LATEX_COMMANDS = r"\frac \sqrt \left \right \text \alpha \cdot \lVert \rVert \, \quad \begin \end"
LATEX_ALPHABET = st.sampled_from(
    [*"{}^_$&'~-+=()[]|.,xyz0129 \\\n", *LATEX_COMMANDS.split(), r"\hat", r"\mathrm", r"\|", r"\{"]
)


@settings(deadline=None)
@given(st.lists(LATEX_ALPHABET, max_size=60).map("".join))
def test_latex_to_unicode_total_on_latex_like_input(src: str) -> None:
    assert latex_to_unicode(src).isprintable()


# --------------------------------------------------------------------------- latex_to_mathml


def parse(mathml: str) -> ET.Element:
    root = ET.fromstring(mathml)
    assert root.tag == MATHML + "math"
    return root


def assert_safe(mathml: str) -> None:
    """Well-formed XML, allowlisted tags only, no link or script attributes anywhere."""
    root = parse(mathml)
    assert "<script" not in mathml.lower()
    for element in root.iter():
        assert element.tag.removeprefix(MATHML) in ALLOWED_TAGS
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on")
            assert name not in ("href", "style", "src", "xlink:href")
            assert ":" not in value and "(" not in value


def test_mathml_basic_structure() -> None:
    out = latex_to_mathml("x^2")
    assert out == (
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><semantics>'
        "<mrow><msup><mi>x</mi><mn>2</mn></msup></mrow>"
        '<annotation encoding="application/x-tex">x^2</annotation></semantics></math>'
    )


def test_mathml_display_block() -> None:
    assert latex_to_mathml(r"\frac{a}{b}", display=True).startswith(
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">'
    )


def test_mathml_symbols_are_characters() -> None:
    root = parse(latex_to_mathml(r"\sigma'(z) \approx 0.25 \cdot \frac{1}{2}"))
    texts = "".join(root.find(f"{MATHML}semantics/{MATHML}mrow").itertext())  # type: ignore[union-attr]
    assert "σ" in texts and "≈" in texts and "′" in texts and "&" not in texts


HOSTILE = [
    r"\text{<script>alert(1)</script>}",
    r"\href{javascript:alert(1)}{x}",
    r"\href{https://example.com}{click}",
    r"\style{background:url(javascript:alert(1))}{x}",
    r"\color{javascript:alert(1)}{x}",
    r"\textcolor{red\" onclick=\"alert(1)}{x}",
    r"\fcolorbox{red}{url(x)}{x}",
    r"\text{<img src=x onerror=alert(1)>}",
    "x onerror=alert(1)",
    r"\mathrm{\"><svg onload=alert(1)>}",
    "&",
    "&amp; &lt; &#0; &#x110000; &#xD800;",
    r"\text{&#x3C;script&#x3E;}",
    "</math><script>alert(1)</script>",
    "]]><!--",
    "{",
    r"\frac{a}{b",
    "}}}",
    r"\def\a{x}\a",
    r"\newcommand{\x}{\x\x}\x",
    "x\x00y\x1b\x7f\ufffe",
    "\ud800",
    "a" * 3000,
]


@pytest.mark.parametrize("latex", HOSTILE)
def test_mathml_sanitizes_hostile_input(latex: str) -> None:
    out = latex_to_mathml(latex)
    assert_safe(out)
    assert "javascript:" not in "".join(
        value for e in parse(out).iter() for value in e.attrib.values()
    )


def test_mathml_script_text_is_escaped_not_dropped() -> None:
    out = latex_to_mathml(r"\text{<script>alert(1)</script>}")
    assert "<mtext>&lt;script&gt;alert(1)&lt;/script&gt;</mtext>" in out


def test_mathml_href_keeps_the_text_but_not_the_link() -> None:
    root = parse(latex_to_mathml(r"\href{javascript:alert(1)}{x}"))
    assert [e.text for e in root.iter(MATHML + "mi")] == ["x"]
    assert all("href" not in e.attrib for e in root.iter())


def test_mathml_keeps_safe_attributes() -> None:
    out = latex_to_mathml(r"\left( x \right) \color{red}{y} \mathrm{ReLU}")
    assert 'fence="true"' in out and 'mathcolor="red"' in out and 'mathvariant="normal"' in out


@pytest.mark.parametrize("latex", ["{", r"\def\a{x}\a", "x" * 2001, ""])
def test_mathml_falls_back_to_escaped_source(latex: str) -> None:
    out = latex_to_mathml(latex)
    assert "<semantics>" not in out
    assert parse(out)[0].tag == MATHML + "mtext"
    assert parse(out)[0].text in (latex, None)


def test_mathml_fallback_escapes() -> None:
    out = latex_to_mathml("<b>&{")
    assert "<mtext>&lt;b&gt;&amp;{</mtext>" in out


@settings(deadline=None)
@given(st.text(max_size=200))
@example("\\text{\x00}")
@example("&#x0;")
def test_mathml_is_total_and_safe_on_any_text(src: str) -> None:
    assert_safe(latex_to_mathml(src))


@settings(deadline=None)
@given(st.lists(LATEX_ALPHABET, max_size=60).map("".join), st.booleans())
def test_mathml_is_safe_on_latex_like_input(src: str, display: bool) -> None:
    assert_safe(latex_to_mathml(src, display=display))


# --------------------------------------------------------------------------- split_math

SPLIT_CASES = [
    ("no math here", [("text", "no math here")]),
    ("a $x^2$ b", [("text", "a "), ("inline", "x^2"), ("text", " b")]),
    ("$x$", [("inline", "x")]),
    ("$$x$$ and $y$", [("display", "x"), ("text", " and "), ("inline", "y")]),
    ("before $$\\frac{a}{b}$$ after", [("text", "before "), ("display", "\\frac{a}{b}"),
                                       ("text", " after")]),
    ("$a$$b$", [("inline", "a"), ("inline", "b")]),
    ("cost \\$5 and \\$6", [("text", "cost $5 and $6")]),
    ("\\$x$", [("text", "$x$")]),
    ("$5 only", [("text", "$5 only")]),
    ("$$x$", [("text", "$$x$")]),
    ("a $$ b", [("text", "a $$ b")]),
    ("$\\$$", [("inline", "\\$")]),
    ("$a \\$ b$ c", [("inline", "a \\$ b"), ("text", " c")]),
    ("$a\\\\$ b", [("inline", "a\\\\"), ("text", " b")]),
    ("$$$$", []),
    ("a $$$$ b", [("text", "a  b")]),
    ("$$", [("text", "$$")]),
    ("", []),
    ("\\alpha outside math", [("text", "\\alpha outside math")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), SPLIT_CASES)
def test_split_math_modes(text: str, expected: list[tuple[str, str]]) -> None:
    assert split_math_modes(text) == expected


@pytest.mark.parametrize(("text", "expected"), SPLIT_CASES)
def test_split_math_is_modes_without_display(text: str, expected: list[tuple[str, str]]) -> None:
    assert split_math(text) == [(mode != "text", segment) for mode, segment in expected]


@settings(deadline=None)
@given(st.text(alphabet=st.sampled_from(list("$\\ax {}")), max_size=40))
def test_split_math_keeps_every_character(text: str) -> None:
    parts = split_math_modes(text)
    assert all(segment for _, segment in parts)
    assert all(a[0] != b[0] or a[0] != "text" for a, b in itertools.pairwise(parts))
    kept = "".join(segment for _, segment in parts)
    assert kept.translate({ord("$"): None, ord("\\"): None}) == text.translate(
        {ord("$"): None, ord("\\"): None}
    )


def test_math_text_drops_bidi_overrides() -> None:
    for source in ("\\text{\u202e321 si rewsna ehT}", "\\unicode{x202E}ab"):
        assert "\u202e" not in latex_to_mathml(source)


@pytest.mark.parametrize(
    ("source", "kept"),
    [("\\rule{60em}{2em}", 'height="2em"'), ("a\\kern-999em b", "<mspace></mspace>"),
     ("a\\kern1em b", 'width="1em"')],
)  # fmt: skip
def test_math_sizes_beyond_a_few_em_are_dropped(source: str, kept: str) -> None:
    mathml = latex_to_mathml(source)
    assert kept in mathml and "60em" not in mathml.split("<annotation")[0]
    assert "999em" not in mathml.split("<annotation")[0]
