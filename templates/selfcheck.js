/* gradient-tutor self-check: grades typed answers in the page with the terminal's rules.

   The parser is a port of tutor/answers.py (parse_answer, is_close, grade) and of
   tutor/expr.py in answer mode: the same grammar, limits, order of checks and messages.
   tests/test_browser.py runs the Python spelling and tolerance tables through it, so a change
   on one side that is not made on the other fails the tests.
   Positions in messages count code points from 1, as Python does. */
(function () {
  "use strict";

  var HINT = "Type a number such as 0.0123, 1.2e-5 or 0.25^10.";
  var ANSWER_HELP =
    "use numbers, + - * / ^, parentheses, pi, e and the functions " +
    "sqrt, exp, ln, log, log10, log2, abs, min and max";
  var MAX_ANSWER = 200;
  var MAX_DEPTH = 40;
  var MAX_EXPONENT = 1e6;
  var EXACT = 9007199254740992; // 2 ** 53: whole numbers stay whole while below it
  var TRY_NOT_COUNTED = " (This try did not count.)";

  // Python's str.isspace() characters, which are also what its re module calls \s.
  var WS = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var STRIP = new RegExp("^[" + WS + "]+|[" + WS + "]+$", "g");
  var SPACE = new RegExp("[" + WS + "]+", "y");
  var TIMES_X = new RegExp("[" + WS + "]*[xX](?![A-Za-z_])", "y");
  var OTHER_BASE_AT = /[xXbBoO][0-9A-Fa-f]/y;
  var WORD_AT = /[0-9A-Za-z_]*/y;
  var LEXEME = new RegExp(
    "((?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?)" + // 1: number
      "|([A-Za-z_][A-Za-z0-9_]*)" + // 2: name
      "|([\u207a\u207b]?[\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+)" + // 3: superscript
      "|(\"[^\"]*\"|'[^']*')" + // 4: text in quotes
      "|(\\*\\*|<=|>=|==|!=|[-+*/^()\\[\\],.<>\u2264\u2265\u2260])", // 5: operator
    "y"
  );
  var KINDS = [null, "num", "name", "sup", "str", "op"];
  var CANONICAL = { "**": "^", "\u2264": "<=", "\u2265": ">=", "\u2260": "!=" };
  var LOOKALIKES = /[\u2212\u2010-\u2014\ufe63\uff0d\u00d7\u00b7\u22c5\u2219\u2217\u00f7\u2215\u2044]/g;
  var SUPERSCRIPTS = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207a\u207b";
  var NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

  // parse_answer's whole-text shapes (tutor/answers.py); Python's IGNORECASE also lets
  // the dotted and dotless capital and small i stand for i.
  var NONFINITE = new RegExp(
    "^([+-]?)[" + WS + "]*([i\u0130\u0131][nN][fF]|[i\u0130\u0131][nN][fF][i\u0130\u0131][nN][i\u0130\u0131][tT][yY]|\u221e|[nN][aA][nN])$",
    "i"
  );
  var PERCENT = new RegExp("^([+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+))[" + WS + "]*%$");
  var OTHER_BASE = /^[+-]?0[xXbBoO][0-9A-Za-z_]+$/;
  var THOUSANDS = /^[+-]?[1-9][0-9]{0,2}([, \u00a0\u2009\u202f][0-9]{3})+(\.[0-9]*)?$/;
  var DECIMAL_COMMA = /^[+-]?[0-9]*,[0-9]+([eE][+-]?[0-9]+)?$/;

  var FUNCTIONS = ["sqrt", "exp", "ln", "log", "log10", "log2", "abs", "min", "max"];
  var BANK_FUNCTIONS = FUNCTIONS.concat([
    "floor", "ceil", "round", "tanh", "sigmoid", "clip", "sum", "prod", "mean", "norm", "len",
    "argmax", "argmin", "first_below", "first_above", "count_below", "count_above", "range", "if",
  ]);
  var CONSTANTS = { pi: Math.PI, e: Math.E };

  // ------------------------------------------------------------------------- errors

  function FormatError(message) {
    this.message = message;
  }

  function ExprError(message) {
    this.message = message;
  }

  // ------------------------------------------------------------------------- text helpers

  function strip(text) {
    return text.replace(STRIP, "");
  }

  function codePoints(text) {
    return Array.from(text).length;
  }

  /** The 1-based code point position of a UTF-16 index. */
  function position(text, index) {
    return codePoints(text.slice(0, index)) + 1;
  }

  function shown(text) {
    var chars = Array.from(text);
    return chars.length <= 24 ? text : chars.slice(0, 20).join("") + "...";
  }

  function normalize(text) {
    return text.replace(LOOKALIKES, function (c) {
      return "\u00d7\u00b7\u22c5\u2219\u2217".indexOf(c) >= 0
        ? "*"
        : "\u00f7\u2215\u2044".indexOf(c) >= 0
          ? "/"
          : "-";
    });
  }

  // ------------------------------------------------------------------------- difflib

  // difflib.get_close_matches(word, candidates, n=1, cutoff=0.6), for "did you mean".
  function matchingCharacters(a, b) {
    var b2j = new Map();
    for (var j = 0; j < b.length; j++) {
      if (!b2j.has(b[j])) b2j.set(b[j], []);
      b2j.get(b[j]).push(j);
    }
    if (b.length >= 200) {
      var limit = Math.floor(b.length / 100) + 1;
      b2j.forEach(function (places, ch) {
        if (places.length > limit) b2j.delete(ch);
      });
    }
    var total = 0;
    var queue = [[0, a.length, 0, b.length]];
    while (queue.length) {
      var range = queue.pop();
      var m = longestMatch(a, b, b2j, range[0], range[1], range[2], range[3]);
      if (m[2]) {
        total += m[2];
        if (range[0] < m[0] && range[2] < m[1]) queue.push([range[0], m[0], range[2], m[1]]);
        if (m[0] + m[2] < range[1] && m[1] + m[2] < range[3]) {
          queue.push([m[0] + m[2], range[1], m[1] + m[2], range[3]]);
        }
      }
    }
    return total;
  }

  function longestMatch(a, b, b2j, alo, ahi, blo, bhi) {
    var besti = alo, bestj = blo, bestsize = 0;
    var j2len = new Map();
    for (var i = alo; i < ahi; i++) {
      var next = new Map();
      var places = b2j.get(a[i]) || [];
      for (var p = 0; p < places.length; p++) {
        var j = places[p];
        if (j < blo) continue;
        if (j >= bhi) break;
        var k = (j2len.get(j - 1) || 0) + 1;
        next.set(j, k);
        if (k > bestsize) {
          besti = i - k + 1;
          bestj = j - k + 1;
          bestsize = k;
        }
      }
      j2len = next;
    }
    while (besti > alo && bestj > blo && a[besti - 1] === b[bestj - 1]) {
      besti--;
      bestj--;
      bestsize++;
    }
    while (besti + bestsize < ahi && bestj + bestsize < bhi &&
           a[besti + bestsize] === b[bestj + bestsize]) {
      bestsize++;
    }
    return [besti, bestj, bestsize];
  }

  function suggestion(word, candidates) {
    var best = null;
    var lowered = word.toLowerCase();
    candidates.forEach(function (c) {
      if (c.toLowerCase() === lowered) best = c;
    });
    if (best === null) {
      var bestScore = -1;
      candidates.forEach(function (c) {
        var score = (2 * matchingCharacters(c, word)) / (c.length + word.length);
        if (score >= 0.6 && (score > bestScore || (score === bestScore && c > best))) {
          best = c;
          bestScore = score;
        }
      });
    }
    return best === null ? "" : " (did you mean '" + best + "'?)";
  }

  // ------------------------------------------------------------------------- lexing

  function Token(kind, value, text, pos, num) {
    this.kind = kind; // "num", "name", "sup", "str", "op" or "end"
    this.value = value; // canonical spelling
    this.text = text; // as typed
    this.pos = pos; // UTF-16 index into the text
    this.num = num || 0;
  }

  function tokenize(text) {
    var norm = normalize(text);
    var tokens = [];
    var i = 0;
    for (;;) {
      SPACE.lastIndex = i;
      if (SPACE.exec(norm)) i = SPACE.lastIndex;
      if (i >= norm.length) break;
      LEXEME.lastIndex = i;
      var match = LEXEME.exec(norm);
      if (match === null) throw badCharacter(text, i);
      var tok = makeToken(match, text, i);
      tokens.push(tok);
      i = LEXEME.lastIndex;
      if (tok.kind === "num" || tok.kind === "sup" || (tok.kind === "op" && tok.value === ")")) {
        i = timesX(text, norm, i, tok, tokens);
      }
    }
    tokens.push(new Token("end", "", "", norm.length));
    return tokens;
  }

  function makeToken(match, text, start) {
    var group = 1;
    while (match[group] === undefined) group++;
    var kind = KINDS[group];
    var raw = match[0];
    var typed = text.slice(start, start + raw.length);
    if (kind === "num") {
      var value = parseFloat(raw);
      if (value === Infinity) throw new ExprError("number too large");
      if (value === 0 && raw.toLowerCase().split("e")[0].replace(/^[0.]+|[0.]+$/g, "") !== "") {
        throw new ExprError("number too small");
      }
      return new Token(kind, raw, typed, start, value);
    }
    if (kind === "sup") {
      var exponent = Array.from(raw).map(function (c) {
        return "0123456789+-"[SUPERSCRIPTS.indexOf(c)];
      }).join("");
      return new Token(kind, exponent, typed, start, parseFloat(exponent));
    }
    if (kind === "str") return new Token(kind, raw.slice(1, -1), typed, start);
    return new Token(kind, CANONICAL[raw] || raw, typed, start);
  }

  function timesX(text, norm, i, tok, tokens) {
    OTHER_BASE_AT.lastIndex = i;
    if (tok.kind === "num" && tok.value === "0" && OTHER_BASE_AT.test(norm)) {
      WORD_AT.lastIndex = i;
      var word = WORD_AT.exec(norm)[0];
      throw new ExprError(
        "only decimal numbers are supported: '" + shown("0" + word) + "' at position " +
          position(text, tok.pos)
      );
    }
    TIMES_X.lastIndex = i;
    if (!TIMES_X.exec(norm)) return i;
    var at = TIMES_X.lastIndex - 1;
    tokens.push(new Token("op", "*", norm[at], at));
    return TIMES_X.lastIndex;
  }

  function badCharacter(text, i) {
    var ch = String.fromCodePoint(text.codePointAt(i));
    var at = position(text, i);
    if (ch === '"' || ch === "'") return new ExprError("unterminated string starting at position " + at);
    if (ch === "=") return new ExprError("unexpected '=' at position " + at + " (use '==' to compare)");
    var printable = ch === " " || !NOT_PRINTABLE.test(ch);
    var code = ch.codePointAt(0).toString(16).toUpperCase();
    var name = printable ? ch : "U+" + "0000".slice(code.length) + code;
    return new ExprError("unexpected character '" + name + "' at position " + at);
  }

  // ------------------------------------------------------------------------- values

  // Values are {v: number, int: boolean}: Python keeps whole numbers as ints while exact,
  // and an int zero has no sign (-0 is 0, but -0.0 is -0.0).
  function whole(v) {
    return { v: v + 0, int: true };
  }

  function real(v) {
    return { v: v, int: false };
  }

  function arith(sym, x, y) {
    if (sym === "/" && y.v === 0) throw new ExprError("division by zero");
    var r = sym === "+" ? x.v + y.v : sym === "-" ? x.v - y.v : sym === "*" ? x.v * y.v : x.v / y.v;
    if (x.int && y.int && sym !== "/" && Math.abs(r) <= EXACT) return whole(r);
    if (!isFinite(r)) throw new ExprError("number too large");
    return real(r);
  }

  function power(x, y) {
    var complex = false;
    var r;
    if (x === 0 && y < 0) throw new ExprError("division by zero");
    if (x < 0 && !Number.isInteger(y)) {
      complex = true; // Python computes a complex number, then refuses it below
      r = Math.pow(-x, y);
    } else {
      r = Math.pow(x, y);
    }
    if (!isFinite(r)) throw new ExprError("number too large");
    if (Math.abs(y) > MAX_EXPONENT) throw new ExprError("exponent too large");
    if (complex) throw new ExprError("a negative number to a fractional power is not a real number");
    if (r === 0 && x !== 0) throw new ExprError("number too small"); // underflow, as 1e-400
    return real(r);
  }

  function logarithm(name, body) {
    return function (x) {
      if (x <= 0) throw new ExprError("cannot take " + name + " of zero or a negative number");
      return real(body(x));
    };
  }

  /** A function of one real number, as tutor/expr.py's _math wraps it. */
  function unary(body) {
    return function (values) {
      return body(values[0].v);
    };
  }

  /** min and max: the first of the smallest (largest) values, int or float as it was. */
  function extreme(before) {
    return function (values) {
      var best = values[0];
      for (var i = 1; i < values.length; i++) {
        if (before(values[i].v, best.v)) best = values[i];
      }
      return best;
    };
  }

  // name: [fewest arguments, most (null: any), body taking the argument values]
  var BODIES = {
    sqrt: [1, 1, unary(function (x) {
      if (x < 0) throw new ExprError("cannot take sqrt of a negative number");
      return real(Math.sqrt(x));
    })],
    exp: [1, 1, unary(function (x) {
      var r = Math.exp(x);
      if (!isFinite(r)) throw new ExprError("number too large");
      return real(r);
    })],
    ln: [1, 1, unary(logarithm("ln", Math.log))],
    log: [1, 1, unary(logarithm("log", Math.log))],
    log10: [1, 1, unary(logarithm("log10", Math.log10))],
    log2: [1, 1, unary(logarithm("log2", Math.log2))],
    abs: [1, 1, function (values) {
      return { v: Math.abs(values[0].v), int: values[0].int };
    }],
    min: [1, null, extreme(function (a, b) { return a < b; })],
    max: [1, null, extreme(function (a, b) { return a > b; })],
  };

  // ------------------------------------------------------------------------- parsing

  var OR = 1, AND = 2, CMP = 4, ADD = 5, MUL = 6, POW = 8;
  var INFIX = {
    or: OR, and: AND, "+": ADD, "-": ADD, "*": MUL, "/": MUL, "^": POW,
    "<": CMP, "<=": CMP, ">": CMP, ">=": CMP, "==": CMP, "!=": CMP,
  };

  function Node(run, start, end, cnst, literal, pow10) {
    this.run = run;
    this.start = start;
    this.end = end;
    this.cnst = cnst === undefined ? null : cnst; // value of a number literal
    this.literal = literal || ""; // its spelling, for exact scientific notation
    this.pow10 = pow10 === undefined ? null : pow10; // k when the node is the literal 10^k
  }

  function constant(value) {
    return function () {
      return value;
    };
  }

  function numberNode(value, start, end, literal) {
    literal = literal || "";
    var digits = literal.replace(/^[+-]+/, "");
    var isWhole = /^[0-9]+$/.test(digits) && Number.isInteger(value) && Math.abs(value) <= EXACT;
    return new Node(constant(isWhole ? whole(value) : real(value)), start, end, value, literal);
  }

  function infixOf(tok) {
    if (tok.kind === "op" || (tok.kind === "name" && (tok.value === "and" || tok.value === "or"))) {
      return Object.prototype.hasOwnProperty.call(INFIX, tok.value) ? INFIX[tok.value] : -1;
    }
    return -1;
  }

  function Parser(text) {
    this.text = text;
    this.tokens = tokenize(text);
    this.i = 0;
    this.depth = 0;
  }

  Parser.prototype.peek = function () {
    return this.tokens[this.i];
  };

  Parser.prototype.take = function () {
    var tok = this.tokens[this.i];
    if (tok.kind !== "end") this.i++;
    return tok;
  };

  Parser.prototype.isOp = function (value) {
    var tok = this.tokens[this.i];
    return tok.kind === "op" && tok.value === value;
  };

  Parser.prototype.at = function (tok) {
    return position(this.text, tok.pos);
  };

  Parser.prototype.parse = function () {
    if (this.peek().kind === "end") throw new ExprError("empty expression");
    var node = this.expr(0);
    if (this.peek().kind !== "end") throw this.stray(this.peek());
    return node;
  };

  Parser.prototype.expr = function (minPrec) {
    this.depth++;
    if (this.depth > MAX_DEPTH) {
      throw new ExprError("expression nested too deeply (the limit is " + MAX_DEPTH + " levels)");
    }
    var node = this.prefix();
    var prec;
    while ((prec = infixOf(this.peek())) >= minPrec) node = this.infix(node, prec);
    this.depth--;
    return node;
  };

  Parser.prototype.infix = function (left, prec) {
    if (prec === POW) {
      var tok = this.take();
      return this.powerNode(left, this.expr(POW), tok);
    }
    if (prec === CMP) this.bankOnly(this.take());
    var parts = [];
    while (infixOf(this.peek()) === prec) {
      var op = this.take();
      if (prec < CMP) this.bankOnly(op);
      parts.push([op, this.expr(prec + 1)]);
    }
    return this.chainNode(left, parts);
  };

  Parser.prototype.powerNode = function (base, exponent, tok) {
    var end = Math.max(exponent.end, tok.pos + tok.text.length);
    var k = exponent.cnst;
    if (base.cnst === 10 && k !== null && Number.isInteger(k) && Math.abs(k) <= 400) {
      var value = parseFloat("1e" + (k + 0));
      if (value === Infinity) throw new ExprError("number too large");
      if (value === 0) throw new ExprError("number too small");
      return new Node(constant(real(value)), base.start, end, value, "", k + 0);
    }
    var a = base.run, b = exponent.run;
    return new Node(function () {
      var x = a(), y = b();
      return power(x.v, y.v);
    }, base.start, end);
  };

  Parser.prototype.chainNode = function (first, parts) {
    var end = parts[parts.length - 1][1].end;
    if (parts.length === 1) {
      var tok = parts[0][0], second = parts[0][1];
      var mantissa = first.literal;
      if (tok.value === "*" && second.pow10 !== null && mantissa && !/[eE]/.test(mantissa)) {
        // 9.5 × 10^-4 is read as the literal 9.5e-4, exactly.
        var negative = (mantissa.match(/^[+-]*/)[0].split("-").length - 1) % 2 === 1;
        var value = parseFloat(mantissa.replace(/^[+-]+/, "") + "e" + second.pow10);
        if (value === Infinity) throw new ExprError("number too large");
        return numberNode(negative ? -value : value, first.start, end);
      }
    }
    var runs = [first.run].concat(parts.map(function (p) { return p[1].run; }));
    var syms = parts.map(function (p) { return p[0].value; });
    return new Node(function () {
      var acc = runs[0]();
      for (var i = 0; i < syms.length; i++) acc = arith(syms[i], acc, runs[i + 1]());
      return acc;
    }, first.start, end);
  };

  Parser.prototype.prefix = function () {
    var tok = this.peek();
    if (tok.kind === "op" && (tok.value === "+" || tok.value === "-")) {
      this.take();
      return this.signed(tok, this.expr(POW));
    }
    if (tok.kind === "name" && tok.value === "not") this.bankOnly(tok);
    return this.postfix(this.atom());
  };

  Parser.prototype.signed = function (tok, operand) {
    var negate = tok.value === "-";
    if (operand.cnst !== null) {
      var value = negate ? -operand.cnst : operand.cnst;
      var first = operand.literal.slice(0, 1);
      var literal = first !== "" && first !== "-" ? operand.literal : "";
      return numberNode(value, tok.pos, operand.end, (literal ? tok.value : "") + literal);
    }
    var run = operand.run;
    return new Node(function () {
      var x = run();
      return negate ? { v: x.int ? -x.v + 0 : -x.v, int: x.int } : x;
    }, tok.pos, operand.end);
  };

  Parser.prototype.postfix = function (node) {
    for (;;) {
      var tok = this.peek();
      if (tok.kind === "sup") {
        this.take();
        var exponent = numberNode(tok.num, tok.pos, tok.pos + tok.text.length);
        node = this.powerNode(node, exponent, tok);
      } else if (this.isOp(".") || this.isOp("[")) {
        this.bankOnly(this.take());
      } else {
        return node;
      }
    }
  };

  Parser.prototype.atom = function () {
    var tok = this.take();
    var end = tok.pos + tok.text.length;
    if (tok.kind === "num") return numberNode(tok.num, tok.pos, end, tok.value);
    if (tok.kind === "name") return this.name(tok);
    if (tok.kind === "str") this.bankOnly(tok, "text in quotes");
    if (tok.kind === "op" && tok.value === "(") {
      var inner = this.expr(0);
      var close = this.expect(")", tok);
      return new Node(inner.run, tok.pos, close.pos + 1, inner.cnst, inner.literal, inner.pow10);
    }
    if (tok.kind === "op" && tok.value === "[") this.bankOnly(tok);
    throw this.missingOperand(tok);
  };

  Parser.prototype.name = function (tok) {
    var end = tok.pos + tok.text.length;
    if (this.isOp("(")) return this.call(tok);
    var key = tok.value.toLowerCase();
    if (Object.prototype.hasOwnProperty.call(CONSTANTS, key)) {
      return new Node(constant(real(CONSTANTS[key])), tok.pos, end, CONSTANTS[key]);
    }
    if (key === "and" || key === "or") throw this.stray(tok);
    if (BANK_FUNCTIONS.indexOf(key) >= 0) {
      throw new ExprError("'" + tok.text + "' is a function: write " + tok.text + "(...)");
    }
    var hint = suggestion(tok.value, Object.keys(CONSTANTS));
    if (hint) throw new ExprError("unknown name '" + tok.text + "'" + hint);
    this.bankOnly(tok);
  };

  Parser.prototype.call = function (tok) {
    var key = tok.value.toLowerCase();
    var end = tok.pos + tok.text.length;
    if (BANK_FUNCTIONS.indexOf(key) < 0) {
      var hint = suggestion(tok.value, FUNCTIONS.slice().sort());
      throw new ExprError("unknown function '" + tok.text + "'" + hint);
    }
    if (FUNCTIONS.indexOf(key) < 0) this.bankOnly(tok);
    var parsed = this.args(this.take());
    end = this.tokens[this.i - 1].pos + 1;
    var spec = BODIES[key];
    checkArity(key, parsed.length, spec[0], spec[1]);
    var runs = parsed.map(function (n) { return n.run; });
    var body = spec[2];
    return new Node(function () {
      return body(runs.map(function (run) { return run(); }));
    }, tok.pos, end);
  };

  Parser.prototype.args = function (opener) {
    var items = [];
    if (this.isOp(")")) {
      this.take();
      return items;
    }
    for (;;) {
      items.push(this.expr(0));
      if (!this.isOp(",")) {
        this.expect(")", opener);
        return items;
      }
      this.take();
    }
  };

  Parser.prototype.expect = function (closer, opener) {
    if (this.isOp(closer)) return this.take();
    if (this.peek().kind === "end") {
      throw new ExprError(
        "missing '" + closer + "' to close '" + opener.text + "' at position " + this.at(opener)
      );
    }
    throw this.stray(this.peek());
  };

  Parser.prototype.stray = function (tok) {
    var starts = tok.kind === "num" || tok.kind === "name" || tok.kind === "str" ||
      tok.value === "(" || tok.value === "[";
    if (starts && tok.value !== "and" && tok.value !== "or") {
      return new ExprError("missing operator before '" + shown(tok.text) + "' at position " + this.at(tok));
    }
    return new ExprError("unexpected '" + shown(tok.text) + "' at position " + this.at(tok));
  };

  Parser.prototype.missingOperand = function (tok) {
    if (tok.kind !== "end") {
      return tok.kind !== "op"
        ? this.stray(tok)
        : new ExprError("unexpected '" + shown(tok.text) + "' at position " + this.at(tok));
    }
    var prev = this.tokens[this.tokens.length - 2];
    return new ExprError("missing a number after '" + shown(prev.text) + "' at position " + this.at(prev));
  };

  Parser.prototype.bankOnly = function (tok, what) {
    var name = what || "'" + shown(tok.text) + "'";
    throw new ExprError(name + " is not allowed in an answer; " + ANSWER_HELP);
  };

  function checkArity(name, count, low, high) {
    if (low <= count && (high === null || count <= high)) return;
    var plural = low !== 1 ? "s" : "";
    var wanted = high === null ? "at least " + low + " argument" + plural : low + " argument" + plural;
    throw new ExprError(name + "() takes " + wanted + ", not " + count);
  }

  function evaluate(text) {
    if (codePoints(text) > MAX_ANSWER) {
      throw new ExprError("expression too long (" + codePoints(text) + " characters; the limit is " + MAX_ANSWER + ")");
    }
    return new Parser(text).parse().run().v;
  }

  // ------------------------------------------------------------------------- parse_answer

  function explain(message) {
    if (message === "number too large" || message === "number too small") {
      return "That number is " + message.slice(7) + " to be an answer; check the exponent.";
    }
    var sentence = message.slice(0, 1).toUpperCase() + message.slice(1) + ".";
    return message.indexOf(ANSWER_HELP) >= 0 ? sentence : sentence + " " + HINT;
  }

  /** A learner's number, or a FormatError whose message says how to type it. */
  function parseAnswer(text, allowNonfinite) {
    var stripped = strip(text);
    if (!stripped) throw new FormatError("The answer is empty. " + HINT);
    if (codePoints(stripped) > MAX_ANSWER) {
      throw new FormatError("That answer is too long (at most " + MAX_ANSWER + " characters).");
    }
    var plain = normalize(stripped);
    var special = NONFINITE.exec(plain);
    if (special) {
      if (!allowNonfinite) {
        throw new FormatError("This answer must be a finite number, not infinity or NaN.");
      }
      if (special[2].toLowerCase() === "nan") return NaN;
      return special[1] === "-" ? -Infinity : Infinity;
    }
    rejectLookalikes(plain);
    try {
      return evaluate(stripped);
    } catch (error) {
      if (error instanceof ExprError) throw new FormatError(explain(error.message));
      throw error;
    }
  }

  function rejectLookalikes(plain) {
    if (plain.indexOf("%") >= 0) {
      var match = PERCENT.exec(plain);
      var number = match ? match[1] : "5";
      var example = match ? "" : "for example, ";
      throw new FormatError(
        "Write percentages as decimals: " + example + "for " + number + "%, type " +
          hundredth(number) + "."
      );
    }
    if (OTHER_BASE.test(plain)) throw new FormatError(inDecimal(plain));
    if (THOUSANDS.test(plain)) {
      throw new FormatError(
        "Don't use thousands separators: write " + plain.replace(/[, \u00a0\u2009\u202f]/g, "") + "."
      );
    }
    if (DECIMAL_COMMA.test(plain)) {
      throw new FormatError("Use a point for decimals: write " + plain.replace(",", ".") + ".");
    }
  }

  /** Python's int(text, 0) for 0x, 0o and 0b numbers, as decimal digits (or null). */
  function inDecimal(plain) {
    var match = /^([+-]?)0([xXoObB])((?:_?[0-9A-Za-z])+)$/.exec(plain);
    var digits = { x: /^[0-9a-f]+$/i, o: /^[0-7]+$/, b: /^[01]+$/ };
    if (match) {
      var base = match[2].toLowerCase();
      var body = match[3].replace(/_/g, "");
      if (digits[base].test(body)) {
        var value = BigInt("0" + base + body);
        var sign = match[1] === "-" && value !== BigInt(0) ? "-" : "";
        return "Write numbers in decimal: type " + sign + value.toString() + ", not " + plain + ".";
      }
    }
    return "Write numbers in decimal: " + plain + " is not a decimal number.";
  }

  /** Decimal(number).scaleb(-2).normalize() formatted with "f", as Python's decimal does it. */
  function hundredth(number) {
    var sign = number[0] === "-" ? "-" : "";
    var body = number.replace(/^[+-]/, "");
    var point = body.indexOf(".");
    var digits = body.replace(".", "");
    var exponent = (point < 0 ? 0 : -(body.length - point - 1)) - 2;
    digits = digits.replace(/^0+/, "");
    if (digits.length > 28) {
      // the default decimal context keeps 28 digits, rounding half to even
      var cut = digits.length - 28;
      var kept = digits.slice(0, 28), rest = digits.slice(28);
      var half = "5" + "0".repeat(rest.length - 1);
      var up = rest > half || (rest === half && "13579".indexOf(kept[27]) >= 0);
      digits = up ? (BigInt(kept) + BigInt(1)).toString() : kept;
      exponent += cut;
    }
    if (!digits || /^0+$/.test(digits)) return sign + "0";
    var trailing = digits.match(/0*$/)[0].length;
    digits = digits.slice(0, digits.length - trailing);
    exponent += trailing;
    if (exponent >= 0) return sign + digits + "0".repeat(exponent);
    var whole = digits.length + exponent;
    if (whole > 0) return sign + digits.slice(0, whole) + "." + digits.slice(whole);
    return sign + "0." + "0".repeat(-whole) + digits;
  }

  // ------------------------------------------------------------------------- grading

  function pow10(k) {
    return Math.pow(10, k);
  }

  function decade(x) {
    var k = Math.floor(Math.log10(Math.abs(x)));
    if (pow10(k) > Math.abs(x)) return k - 1;
    return k < 308 && pow10(k + 1) <= Math.abs(x) ? k + 1 : k;
  }

  /** Whether value grades as expected under tol ({kind, value}); see tutor/answers.py. */
  function isClose(value, expected, tol) {
    if (isNaN(expected) || isNaN(value)) return isNaN(expected) && isNaN(value);
    if (!isFinite(expected) || !isFinite(value)) return value === expected;
    if (tol.kind === "absolute") return Math.abs(value - expected) <= tol.value;
    if (expected === 0 || value === 0) return value === expected;
    if (tol.kind === "relative") return Math.abs(value - expected) <= tol.value * Math.abs(expected);
    if (tol.kind === "sigfigs") {
      var step = pow10(decade(expected) - tol.value + 1);
      return Math.abs(value - expected) <= 0.51 * step;
    }
    var sameSign = value > 0 === expected > 0;
    return sameSign && Math.abs(Math.log10(Math.abs(value)) - Math.log10(Math.abs(expected))) <= tol.value;
  }

  function distance(a, b) {
    if (a === b) return [0, 0];
    var gap = Math.abs(a - b);
    gap = isFinite(gap) ? gap : Infinity;
    if (a !== 0 && b !== 0 && a > 0 === b > 0 && isFinite(a) && isFinite(b)) {
      return [Math.abs(Math.log(Math.abs(a)) - Math.log(Math.abs(b))), gap];
    }
    return [Infinity, gap];
  }

  /** The tolerance that recognises a misconception: the question's, or 1% for an absolute one. */
  function mistakeTolerance(tol) {
    return tol.kind === "absolute" ? { kind: "relative", value: 0.01 } : tol;
  }

  /** {correct, mistake}: mistakes is a list of [name, value], matched closest first. */
  function grade(value, expected, tol, mistakes) {
    if (isClose(value, expected, tol)) return { correct: true, mistake: null };
    var best = null, bestDistance = null, near = mistakeTolerance(tol);
    (mistakes || []).forEach(function (entry) {
      if (!isClose(value, entry[1], near)) return;
      var d = distance(value, entry[1]);
      if (bestDistance === null || d[0] < bestDistance[0] ||
          (d[0] === bestDistance[0] && d[1] < bestDistance[1])) {
        best = entry[0];
        bestDistance = d;
      }
    });
    return { correct: false, mistake: best };
  }

  function number(value) {
    return value === "inf" ? Infinity : value === "-inf" ? -Infinity : value === "nan" ? NaN : value;
  }

  // ------------------------------------------------------------------------- the page

  function show(element, visible) {
    if (element) element.hidden = !visible;
  }

  function say(part, text, tone) {
    var status = part.querySelector(".gt-status");
    status.textContent = text;
    status.className = "gt-status gt-" + tone;
  }

  function verdictOf(part, key) {
    if (key.type === "numeric") {
      var value = parseAnswer(part.querySelector(".gt-input").value, key.nonfinite);
      var mistakes = key.mistakes.map(function (m) { return [m[0], number(m[1])]; });
      return grade(value, number(key.expected), key.tolerance, mistakes);
    }
    var picked = part.querySelector("input[type=radio]:checked");
    if (!picked) throw new FormatError("Choose one of the options.");
    var index = Number(picked.value);
    if (key.type === "choice") {
      var option = key.options[index];
      return { correct: option.correct, mistake: option.correct ? null : option.mistake, option: index };
    }
    var right = (index === 0) === key.expected;
    return { correct: right, mistake: right ? null : key.mistake };
  }

  function check(part, key, state) {
    if (state.done) return;
    var verdict;
    try {
      verdict = verdictOf(part, key);
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      say(part, error.message + TRY_NOT_COUNTED, "warn");
      return;
    }
    state.tries++;
    var final = verdict.correct || state.tries >= key.tries;
    part.querySelectorAll(".gt-feedback").forEach(function (el) { show(el, false); });
    say(part, verdict.correct ? "\u2713 Correct." : "\u2717 Not quite.", verdict.correct ? "ok" : "bad");
    if (!verdict.correct) showFeedback(part, verdict);
    if (final) {
      finish(part, state, verdict.correct ? Math.pow(0.5, state.tries - 1) : 0, !verdict.correct);
    } else {
      help(part, state);
    }
  }

  function showFeedback(part, verdict) {
    var selector = verdict.option !== undefined
      ? ".gt-feedback[data-option='" + verdict.option + "']"
      : verdict.mistake ? ".gt-feedback[data-mistake='" + verdict.mistake + "']" : null;
    if (selector) show(part.querySelector(selector), true);
  }

  function help(part, state) {
    var items = part.querySelectorAll(".gt-help");
    if (state.help < items.length) {
      show(items[state.help], true);
      state.help++;
    } else {
      var status = part.querySelector(".gt-status");
      status.textContent += " Try again.";
    }
  }

  function finish(part, state, score, showAnswer) {
    state.done = true;
    state.score = score;
    part.querySelectorAll("input, textarea, button").forEach(function (el) { el.disabled = true; });
    show(part.querySelector(".gt-answer"), showAnswer);
    show(part.querySelector(".gt-explanation"), true);
    part.dataset.score = String(score);
    updateScore(part);
  }

  function revealModel(part, state) {
    if (state.revealed) return;
    state.revealed = true;
    show(part.querySelector(".gt-explanation"), true);
    show(part.querySelector(".gt-rate"), true);
  }

  function updateScore(part) {
    var version = part.closest(".version");
    var board = version && version.querySelector(".gt-score");
    if (!board) return;
    var total = 0;
    version.querySelectorAll(".question").forEach(function (question) {
      var parts = question.querySelectorAll(".gt-part");
      parts.forEach(function (p) {
        if (p.dataset.score !== undefined) total += Number(p.dataset.score) / parts.length;
      });
    });
    var questions = version.querySelectorAll(".question").length;
    board.textContent = "Score so far: " + Math.round(total * 100) / 100 + " of " + questions + ".";
  }

  function setUp(part) {
    var key = JSON.parse(part.dataset.key);
    var state = { tries: 0, help: 0, done: false, revealed: false, score: 0 };
    part.addEventListener("submit", function (event) {
      event.preventDefault();
      if (key.type === "explain") revealModel(part, state);
      else check(part, key, state);
    });
    part.querySelectorAll(".gt-rate button").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!state.done) finish(part, state, button.value === "yes" ? 1 : 0, false);
      });
    });
  }

  window.gradientTutor = Object.freeze({
    parseAnswer: function (text, allowNonfinite) {
      try {
        var value = parseAnswer(String(text), Boolean(allowNonfinite));
        return { value: value, negativeZero: Object.is(value, -0) };
      } catch (error) {
        if (error instanceof FormatError) return { error: error.message };
        throw error;
      }
    },
    isClose: function (value, expected, tol) {
      return isClose(number(value), number(expected), tol);
    },
    grade: function (value, expected, tol, mistakes) {
      var named = (mistakes || []).map(function (m) { return [m[0], number(m[1])]; });
      return grade(number(value), number(expected), tol, named);
    },
  });

  document.querySelectorAll("form.gt-part").forEach(setUp);
})();
