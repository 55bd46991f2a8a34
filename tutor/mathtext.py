"""Math written once in LaTeX, shown as Unicode in a terminal and as MathML in HTML.

* :func:`split_math` finds the ``$...$`` (inline) and ``$$...$$`` (display) math in a text.
* :func:`latex_to_unicode` turns the LaTeX subset used in questions into readable Unicode.
* :func:`latex_to_mathml` converts with ``latex2mathml`` and rebuilds the result from an
  allowlist, because banks are untrusted and the converter passes raw text and ``\\href``
  targets through.

All three are total: any string gives a result, never an exception.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

MathMode = Literal["text", "inline", "display"]

# --------------------------------------------------------------------------- split_math


def split_math(text: str) -> list[tuple[bool, str]]:
    """Split ``text`` into ``(is_math, segment)`` pairs, in order, without empty segments.

    ``$...$`` is inline math and ``$$...$$`` display math (use :func:`split_math_modes` to tell
    them apart). In text, ``\\$`` is a literal dollar; inside math, ``\\$`` and any other
    backslash pair are kept for the LaTeX converter and never close the math. A ``$`` or ``$$``
    with no closing partner is literal text.
    """
    return [(mode != "text", segment) for mode, segment in split_math_modes(text)]


# One pass finds every dollar: an escaped \$, closed display math, an unclosed $$, closed inline
# math, or a lone $. Inside math a backslash pair (\$, \\, \alpha) never closes it.
_DOLLARS = re.compile(r"\\\$|\$\$((?:\\.|[^\\])*?)\$\$|\$\$|\$((?:\\.|[^\\])*?)\$|\$", re.S)


def split_math_modes(text: str) -> list[tuple[MathMode, str]]:
    """Like :func:`split_math`, but says whether each math segment is inline or display."""
    parts: list[tuple[MathMode, str]] = []
    plain: list[str] = []
    pos = 0
    for match in _DOLLARS.finditer(text):
        plain.append(text[pos : match.start()])
        pos = match.end()
        display, inline = match.group(1), match.group(2)
        if display is None and inline is None:  # \$, or a $ / $$ that is never closed
            plain.append("$" if match.group(0) == "\\$" else match.group(0))
        elif display or inline:  # empty math ("$$$$") vanishes without splitting the text
            _flush(parts, plain)
            parts.append(("display", display) if display is not None else ("inline", inline))
    plain.append(text[pos:])
    _flush(parts, plain)
    return parts


def _flush(parts: list[tuple[MathMode, str]], plain: list[str]) -> None:
    joined = "".join(plain)
    if joined:
        parts.append(("text", joined))
    plain.clear()


# --------------------------------------------------------------------------- Unicode tables


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


_LOWER_GREEK = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron"
_LOWER_GREEK += " pi rho varsigma sigma tau upsilon phi chi psi omega"  # U+03B1 ... U+03C9
_GREEK = dict(zip(_LOWER_GREEK.split(), map(chr, range(0x3B1, 0x3CA)), strict=True)) | {
    name.capitalize(): chr(ord(_char) - 32)  # capitals sit 32 code points lower
    for name, _char in {"gamma": "γ", "delta": "δ", "theta": "θ", "lambda": "λ", "xi": "ξ",
        "pi": "π", "sigma": "σ", "upsilon": "υ", "phi": "φ", "psi": "ψ", "omega": "ω"}.items()
} | {"varepsilon": "ε", "epsilon": "ϵ", "vartheta": "ϑ", "varphi": "φ", "phi": "ϕ",
     "varrho": "ϱ", "varpi": "ϖ"}  # fmt: skip
# Letter-like symbols: juxtaposed with what follows ("\partial L" -> "∂L").
_SYMBOLS = _GREEK | {
    "partial": "∂", "nabla": "∇", "ell": "ℓ", "infty": "∞", "prime": "′", "hbar": "ħ",
    "emptyset": "∅", "dots": "…", "ldots": "…", "cdots": "⋯", "sum": "Σ", "prod": "Π",
    "int": "∫", "lVert": "‖", "rVert": "‖", "Vert": "‖", "lvert": "|", "rvert": "|",
    "vert": "|", "langle": "⟨", "rangle": "⟩", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈",
    "rceil": "⌉", "neg": "¬", "lnot": "¬", "forall": "∀", "exists": "∃", "top": "⊤",
}  # fmt: skip
# Binary operators and relations: padded with collapsible spaces.
_OPERATORS = {
    "cdot": "·", "times": "×", "approx": "≈", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "ne": "≠", "neq": "≠", "lt": "<", "gt": ">", "pm": "±", "mp": "∓", "to": "→",
    "rightarrow": "→", "leftarrow": "←", "gets": "←", "Rightarrow": "⇒", "implies": "⇒",
    "iff": "⇔", "Leftrightarrow": "⇔", "mapsto": "↦", "in": "∈", "notin": "∉", "sim": "∼",
    "simeq": "≃", "propto": "∝", "equiv": "≡", "ll": "≪", "gg": "≫", "div": "÷", "ast": "∗",
    "circ": "∘", "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "mid": "|", "subset": "⊂",
    "subseteq": "⊆", "cup": "∪", "cap": "∩", "land": "∧", "lor": "∨", "wedge": "∧", "vee": "∨",
}  # fmt: skip
_HARD_SPACES = {",": " ", ":": " ", ";": " ", ">": " ", " ": " ", "quad": "  ",
                "qquad": "    ", "!": "", "enspace": " ", "thinspace": " "}  # fmt: skip
_ESCAPED = {"{": "{", "}": "}", "$": "$", "%": "%", "&": "&", "#": "#", "_": "_", "|": "‖"}
_INVISIBLE = _words("middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr limits"
                    " displaystyle textstyle scriptstyle scriptscriptstyle nolimits nonumber notag"
                    " hline")  # fmt: skip
_TEXT_MODE = _words("text textrm textbf textit textsf texttt mbox hbox emph url")
_KEEP_CONTENT = _TEXT_MODE | _words("mathrm mathbf mathit mathsf mathtt mathcal mathbb mathfrak"
                                    " boldsymbol bm operatorname")  # fmt: skip
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0305",
            "tilde": "\u0303", "widetilde": "\u0303", "vec": "\u20d7", "dot": "\u0307",
            "ddot": "\u0308"}  # fmt: skip
_SUPERSCRIPTS = {
    **dict(
        zip(
            "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUW′",
            "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁᵂ′",
            strict=True,
        )
    ),
    "⊤": "ᵀ",
}  # fmt: skip  (W^\top, the transpose, reads as Wᵀ)
_SUBSCRIPTS = dict(
    zip("0123456789+-−=()aehijklmnoprstuvxβγρφχ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ", strict=True)
)  # fmt: skip
_ATOM_EXTRA = (
    frozenset("∂∇′.∞") | frozenset(_SUPERSCRIPTS.values()) | frozenset(_SUBSCRIPTS.values())
)

# Markers inside the converter; control characters are stripped from the input, so no clash.
_SOFT = "\x00"  # a collapsible space
_GLUE_PREV = "\x01"  # drop the soft space before this point (closing delimiter)
_GLUE_NEXT = "\x02"  # drop the soft space after this point (opening delimiter)
_MARKERS = re.compile("[\x00-\x02]")
_OPENING = frozenset({"lVert", "lvert", "langle", "lfloor", "lceil"})
_CLOSING = frozenset({"rVert", "rvert", "rangle", "rfloor", "rceil"})
_MAX_DEPTH = 40  # deeper nesting is flattened: bounded recursion, output still readable
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\\\Z|\s+|.", re.DOTALL)


# --------------------------------------------------------------------------- latex_to_unicode


def latex_to_unicode(src: str) -> str:
    """Render the LaTeX math ``src`` as one line of printable Unicode for a terminal.

    ``\\frac{1}{1+e^{-z}}`` -> ``1/(1+e⁻ᶻ)``; ``\\sigma'(z_l) \\cdot w_l`` -> ``σ′(zₗ) · wₗ``;
    ``x^{0.5}`` -> ``x^(0.5)`` (no superscript dot exists). Unknown commands keep their name
    without the backslash. Never raises; control characters in ``src`` are dropped.
    """
    cleaned = "".join(c for c in src if c.isspace() or unicodedata.category(c)[0] != "C")
    converter = _ToUnicode(_TOKEN.findall(cleaned))
    return _finish(converter.sequence(0, None, text=False))


def _finish(rendered: str) -> str:
    """Collapse the soft spaces, drop them next to brackets and hard spaces, keep printables."""
    out = re.sub(r"\x00*\x01", "", rendered)
    out = re.sub(r"\x02\x00*", "", out)
    out = re.sub(r"\x00+", _SOFT, out)
    out = re.sub(r"\x00*( +)\x00*", r"\1", out)
    out = re.sub(r"([(\[{⟨])\x00|\x00(?=[)\]}⟩,;])", r"\1", out)
    out = unicodedata.normalize("NFC", out.replace(_SOFT, " ").strip())  # "y\u0302" -> "ŷ"
    return "".join(c for c in out if c.isprintable())


def _script(body: str, table: dict[str, str], mark: str) -> str:
    """Unicode super/subscript when every character has one, else ``^x`` or ``^(…)``."""
    body = _MARKERS.sub("", body)
    if all(c in table for c in body):
        return "".join(table[c] for c in body)
    return mark + body if len(body) == 1 else f"{mark}({body})"


def _is_atom(s: str) -> bool:
    """True for "x", "∂L", "σ′(z)", "10⁻⁷": safe beside "/" or "√" without parentheses."""
    if s.endswith(")") and "(" in s and _one_group(s[s.index("(") :]):
        s = s[: s.index("(")]  # a function application binds like an atom
    return bool(s) and all(c.isalnum() or c in _ATOM_EXTRA for c in s)


def _one_group(s: str) -> bool:
    """True if ``s`` is one balanced parenthesized group: "(a(b)c)", not "(a)+(b)"."""
    depth = 0
    for i, c in enumerate(s):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0:
            return i == len(s) - 1
    return False


def _wrap(s: str) -> str:
    s = s.strip(_SOFT + " ")
    return s if not s or _is_atom(s) else f"({s})"


class _ToUnicode:
    """A recursive-descent reader over LaTeX tokens; every step consumes at least one token."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.handlers: dict[str, Callable[[int, bool], str]] = {
            "frac": self._frac, "dfrac": self._frac, "tfrac": self._frac, "cfrac": self._frac,
            "sqrt": self._sqrt, "begin": self._environment, "end": self._environment,
            "color": self._second_argument, "textcolor": self._second_argument,
            "href": self._second_argument, "left": self._left, "right": self._right,
        }  # fmt: skip

    def peek(self, ahead: int = 0) -> str | None:
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else None

    def sequence(self, depth: int, stop: str | None, *, text: bool) -> str:
        """Render tokens until ``stop`` (consumed) or the end; stray ``}`` are dropped."""
        out: list[str] = []
        while (token := self.peek()) is not None:
            if token in ("}", stop):
                self.pos += 1
                if token == stop:
                    break
                continue
            out.append(self.item(depth, text))
        return "".join(out)

    def item(self, depth: int, text: bool) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        if token == "{":
            return "" if depth >= _MAX_DEPTH else self.sequence(depth + 1, "}", text=text)
        if token in ("^", "_"):
            table = _SUPERSCRIPTS if token == "^" else _SUBSCRIPTS
            return _script(self.argument(depth + 1, False), table, token)
        if token.isspace():
            return " " if text else _SOFT
        if token.startswith("\\") and len(token) > 1:
            return self.command(token[1:], depth, text)
        return self.character(token, text)

    @staticmethod
    def character(token: str, text: bool) -> str:
        if token == "~":
            return " "
        if text:
            return token
        return {"-": "−", "'": "′", "&": _SOFT}.get(token, token)

    def argument(self, depth: int, text: bool) -> str:
        """One command argument: a group, a command or a character; "" if there is none."""
        while (token := self.peek()) is not None and token.isspace():
            self.pos += 1
        if token is None or token in ("}", "^", "_") or depth >= _MAX_DEPTH:
            return ""
        return self.item(depth, text)

    def command(self, name: str, depth: int, text: bool) -> str:
        if name in _OPENING:
            return _SYMBOLS[name] + _GLUE_NEXT
        if name in _CLOSING:
            return _GLUE_PREV + _SYMBOLS[name]
        if name in _SYMBOLS:
            self._join_next_atom()
            return _SYMBOLS[name]
        if name in _OPERATORS:
            return _SOFT + _OPERATORS[name] + _SOFT
        if name in _HARD_SPACES:
            return _HARD_SPACES[name]
        if name in _ESCAPED:
            return _ESCAPED[name]
        if name in _INVISIBLE:
            return ""
        if name in _KEEP_CONTENT:
            return self.argument(depth + 1, text or name in _TEXT_MODE)
        if name in _ACCENTS:
            return self._accent(name, depth)
        if name in self.handlers:
            return self.handlers[name](depth, text)
        return _SOFT if name == "\\" else name  # unknown: keep the name, e.g. \tanh -> tanh

    def _join_next_atom(self) -> None:
        """Drop one space between a letter-like symbol and a following letter, digit or group."""
        after = self.peek(1)
        if (
            str(self.peek()).isspace()
            and after is not None
            and (after in ("{", "(") or after[0].isalnum() or after[1:] in _SYMBOLS)
        ):
            self.pos += 1

    def _left(self, depth: int, text: bool) -> str:
        delimiter = self.argument(depth + 1, text)
        return ("" if delimiter == "." else delimiter) + _GLUE_NEXT  # "\left." is invisible

    def _right(self, depth: int, text: bool) -> str:
        delimiter = self.argument(depth + 1, text)
        return _GLUE_PREV + ("" if delimiter == "." else delimiter)

    def _frac(self, depth: int, text: bool) -> str:
        numerator = self.argument(depth + 1, text)
        denominator = self.argument(depth + 1, text)
        fraction = f"{_wrap(numerator)}/{_wrap(denominator)}"
        return f"({fraction})" if self._juxtaposed() else fraction  # (1/m)Σ, not 1/mΣ

    def _juxtaposed(self) -> bool:
        """Whether what follows multiplies by juxtaposition (a letter, symbol or group)."""
        ahead = 0
        while (token := self.peek(ahead)) is not None and token.isspace():
            ahead += 1
        if token is None:
            return False
        if token.startswith("\\") and len(token) > 1:
            name = token[1:]
            ends = name in ("right", "end", "\\") or name in _CLOSING or name in _HARD_SPACES
            return not ends and name not in _OPERATORS
        return token[0].isalnum() or token in ("(", "{")

    def _sqrt(self, depth: int, text: bool) -> str:
        index = ""
        if self.peek() == "[" and depth < _MAX_DEPTH:
            self.pos += 1
            index = _script(self.sequence(depth + 1, "]", text=False), _SUPERSCRIPTS, "^")
        return f"{index}√{_wrap(self.argument(depth + 1, text))}"

    def _accent(self, name: str, depth: int) -> str:
        body = self.argument(depth + 1, False).strip(_SOFT)
        if len(body) == 1:
            return body + _ACCENTS[name]
        return f"{name}({body})"

    def _environment(self, depth: int, _text: bool) -> str:
        self.argument(depth + 1, True)  # the environment's name is not shown
        return _SOFT

    def _second_argument(self, depth: int, text: bool) -> str:
        self.argument(depth + 1, True)  # a colour or a link target is not shown
        return self.argument(depth + 1, text)


# --------------------------------------------------------------------------- latex_to_mathml

_MATHML_NS = "http://www.w3.org/1998/Math/MathML"
_MAX_MATHML_SOURCE = 2000  # longer math is shown as source text: bounds conversion time
# The patterns below stay text until ``re`` first compiles (and caches) them: HTML only.
# Macro definitions can expand exponentially; question math never needs them.
_MACRO_DEFINITION = (
    r"\\(?:[gex]?def|let|(?:re)?newcommand|providecommand|DeclareMathOperator|"
    r"(?:re)?newenvironment)(?![A-Za-z])"
)
# Exactly the presentation elements latex2mathml emits.
_ALLOWED_TAGS = _words(
    "mrow mi mn mo mtext mspace msup msub msubsup mfrac msqrt mroot mover munder munderover"
    " mtable mtr mtd mstyle mpadded mphantom menclose"
)
_ALLOWED_ATTRIBUTES = _words(
    "accent columnalign columnlines columnspacing depth displaystyle fence form height largeop"
    " linebreak linethickness lspace mathbackground mathcolor mathsize mathvariant maxsize"
    " minsize movablelimits notation rowlines rowspacing rspace scriptlevel separator stretchy"
    " voffset width"
)
# No colon, parenthesis, quote or angle bracket: no url(), no javascript:, no markup.
_SAFE_VALUE = r"[A-Za-z0-9 .,#%+\-]{0,64}"
# Lengths and sizes a formula needs are a few em (or a few hundred percent): larger ones, like
# \rule{60em}{2em} or \kern-999em, only push the math over the page or over other text.
_NUMBER_IN_VALUE = re.compile(r"([0-9]*\.?[0-9]+)\s*(%?)")
_MAX_LENGTH, _MAX_PERCENT = 10.0, 400.0
_NONCHARS = "\ufffe\uffff"  # not XML characters
_CHAR_REF = r"&#(x[0-9A-Fa-f]{1,6}|[0-9]{1,7});"


def latex_to_mathml(src: str, *, display: bool = False) -> str:
    """Convert LaTeX math to a sanitized ``<math>`` element (a string of safe markup).

    The result carries the source as ``<annotation encoding="application/x-tex">`` for screen
    readers and copy-paste. Only allowlisted MathML elements and attributes survive; all text is
    re-escaped. If conversion fails (unbalanced braces, macro definitions, sources over 2000
    characters) the escaped source is shown in an ``<mtext>``.
    """
    source = _xml_chars(src)
    mode = "block" if display else "inline"
    head = f'<math xmlns="{_MATHML_NS}" display="{mode}">'
    body = _convert(source, mode)
    if body is None:
        return f"{head}<mtext>{_escape(source)}</mtext></math>"
    tex = f'<annotation encoding="application/x-tex">{_escape(source)}</annotation>'
    return f"{head}<semantics>{body}{tex}</semantics></math>"


def _convert(source: str, mode: str) -> str | None:
    """Sanitized MathML for the content of ``<math>`` as one element, or None on failure."""
    if len(source) > _MAX_MATHML_SOURCE or re.search(_MACRO_DEFINITION, source):
        return None
    try:
        # Imported here so that the terminal never pays for it.
        from latex2mathml.converter import convert_to_element

        root = convert_to_element(source, display=mode)
        children = list(root)
        inner = _text(root.text) + "".join(_sanitize(child) for child in children)
    except Exception:  # any failure of the third-party converter falls back to source text
        return None
    return inner if len(children) == 1 and not root.text else f"<mrow>{inner}</mrow>"


def _sanitize(element: Element) -> str:
    """Rebuild ``element`` (and its tail text) from the allowlist; unknown tags become mrow."""
    tag = element.tag if element.tag in _ALLOWED_TAGS else "mrow"
    attributes = "".join(
        f' {name}="{_escape(value, quote=True)}"'
        for name, value in sorted(element.attrib.items())
        if tag == element.tag and name in _ALLOWED_ATTRIBUTES and _safe_value(value)
    )
    inner = _text(element.text) + "".join(_sanitize(child) for child in element)
    return f"<{tag}{attributes}>{inner}</{tag}>{_text(element.tail)}"


def _safe_value(value: str) -> bool:
    """An attribute value with no markup or URL in it, and no size beyond a few em."""
    if not re.fullmatch(_SAFE_VALUE, value):
        return False
    return all(
        float(number) <= (_MAX_PERCENT if percent else _MAX_LENGTH)
        for number, percent in _NUMBER_IN_VALUE.findall(value)
    )


def _text(raw: str | None) -> str:
    """Escaped text; latex2mathml writes symbols as character references, decoded here."""
    if not raw:
        return ""
    decoded = re.sub(_CHAR_REF, lambda m: _char(m.group(1)), raw)
    return _escape(_xml_chars(decoded))


def _char(reference: str) -> str:
    code = int(reference[1:], 16) if reference.startswith("x") else int(reference)
    return chr(code) if code <= 0x10FFFF else ""


def _xml_chars(s: str) -> str:
    """Drop what XML forbids, other control characters and format characters (bidi overrides
    would reorder what the page shows); whitespace controls become spaces."""
    return "".join(
        " " if c in "\t\n\r" else c
        for c in s
        if c in "\t\n\r"
        or (unicodedata.category(c) not in ("Cc", "Cs", "Cf") and c not in _NONCHARS)
    )


def _escape(s: str, quote: bool = False) -> str:
    import html  # here, not at the top: the terminal never needs it

    return html.escape(s, quote=quote)
