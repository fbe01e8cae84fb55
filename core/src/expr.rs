//! A loss typed as an expression over the last layer's units, `f(h1, …, hn)`: a small
//! recursive-descent parser, a flat instruction list (each instruction reads earlier results by
//! index), its evaluation and its reverse-mode derivative, and [`Formula`], the expression with its
//! values tabulated on every binary state (what `E[f]` and its gradient are made of).
//!
//! Grammar (lowest precedence first; `^` is right-associative and binds tighter than a unary minus
//! on its left, as in mathematics: `-h1^2 = -(h1^2)`, `2^-1 = 0.5`, `2^3^2 = 2^9`):
//!
//! ```text
//! sum     = product { ("+" | "-") product }
//! product = unary { ("*" | "/") unary }
//! unary   = ("-" | "+") unary | power
//! power   = primary [ "^" unary ]
//! primary = number | "h" digits | "pi" | "e" | name "(" sum { "," sum } ")" | "(" sum ")"
//! ```
//!
//! Functions: `abs exp log sqrt sigmoid` (one argument), `min max` (two or more). `log` is the
//! natural logarithm. Variables are `h1 … hn`, 1-based, the only names besides the functions and
//! the constants. Errors carry a 1-based column (in characters) within the text.
//!
//! Derivatives: `abs` at 0 and a tie of `min`/`max` have none, and a derivative that comes out
//! infinite or undefined (`sqrt` at 0, `h1^0.5` at 0, …) is none either; [`Expr::gradient`] says
//! so (and uses a convention: `abs′(0) = 0`, a tie goes to the first argument) and [`Formula`]
//! records the first binary state where it happens.

use crate::math;
use std::fmt;

/// The longest expression text accepted, in characters.
pub const MAX_LEN: usize = 2000;
/// The deepest nesting of parentheses, function calls, unary minus and powers.
pub const MAX_DEPTH: usize = 100;
/// The widest last layer an expression loss may have: its values on the `2^n` binary states are
/// tabulated (and checked to be finite) when the model is read.
pub const MAX_WIDTH: usize = 16;

/// A syntax error: the 1-based column (in characters) and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Const(f64),
    Var(usize),
    Neg(usize),
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    Pow(usize, usize),
    Min(usize, usize),
    Max(usize, usize),
    Abs(usize),
    Exp(usize),
    Log(usize),
    Sqrt(usize),
    Sigmoid(usize),
}

/// A parsed expression: instructions in evaluation order; the last one is `f`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    code: Vec<Op>,
    /// Whether each instruction's value depends on a variable (a power's exponent that does not
    /// is a constant, whose derivative is not taken).
    varying: Vec<bool>,
}

const FUNCTIONS: [&str; 7] = ["abs", "exp", "log", "sqrt", "sigmoid", "min", "max"];

/// Parse `text` as an expression over `h1 … h{vars}`.
pub fn parse(text: &str, vars: usize) -> Result<Expr, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() > MAX_LEN {
        return Err(ParseError {
            column: MAX_LEN + 1,
            message: format!("the expression is longer than {MAX_LEN} characters"),
        });
    }
    let mut p = Parser { s: chars, i: 0, depth: 0, vars, code: Vec::new(), varying: Vec::new() };
    p.skip();
    if p.i == p.s.len() {
        return Err(ParseError {
            column: 1,
            message: "empty expression (write f in h1 … hn, e.g. (h1 - 0.45)^2)".into(),
        });
    }
    p.sum()?;
    p.skip();
    if p.i < p.s.len() {
        let c = p.s[p.i];
        return Err(p.error(if c == ')' {
            "unmatched ')'".to_string()
        } else {
            format!("expected an operator (+ - * / ^) or the end, found '{c}'")
        }));
    }
    Ok(Expr { code: p.code, varying: p.varying })
}

struct Parser {
    s: Vec<char>,
    i: usize,
    depth: usize,
    vars: usize,
    code: Vec<Op>,
    varying: Vec<bool>,
}

impl Parser {
    fn error(&self, message: impl Into<String>) -> ParseError {
        self.error_at(self.i, message)
    }
    fn error_at(&self, at: usize, message: impl Into<String>) -> ParseError {
        ParseError { column: at.min(self.s.len()) + 1, message: message.into() }
    }
    fn skip(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<char> {
        self.skip();
        self.s.get(self.i).copied()
    }
    fn push(&mut self, op: Op) -> usize {
        let v = match op {
            Op::Const(_) => false,
            Op::Var(_) => true,
            Op::Neg(a) | Op::Abs(a) | Op::Exp(a) | Op::Log(a) | Op::Sqrt(a) | Op::Sigmoid(a) => self.varying[a],
            Op::Add(a, b)
            | Op::Sub(a, b)
            | Op::Mul(a, b)
            | Op::Div(a, b)
            | Op::Pow(a, b)
            | Op::Min(a, b)
            | Op::Max(a, b) => self.varying[a] || self.varying[b],
        };
        self.code.push(op);
        self.varying.push(v);
        self.code.len() - 1
    }

    fn sum(&mut self) -> Result<usize, ParseError> {
        let mut a = self.product()?;
        loop {
            match self.peek() {
                Some('+') => {
                    self.i += 1;
                    let b = self.product()?;
                    a = self.push(Op::Add(a, b));
                }
                Some('-') => {
                    self.i += 1;
                    let b = self.product()?;
                    a = self.push(Op::Sub(a, b));
                }
                _ => return Ok(a),
            }
        }
    }

    fn product(&mut self) -> Result<usize, ParseError> {
        let mut a = self.unary()?;
        loop {
            match self.peek() {
                Some('*') => {
                    self.i += 1;
                    let b = self.unary()?;
                    a = self.push(Op::Mul(a, b));
                }
                Some('/') => {
                    self.i += 1;
                    let b = self.unary()?;
                    a = self.push(Op::Div(a, b));
                }
                _ => return Ok(a),
            }
        }
    }

    fn unary(&mut self) -> Result<usize, ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("nested too deeply (at most {MAX_DEPTH} levels)")));
        }
        self.depth += 1;
        let r = match self.peek() {
            Some('-') => {
                self.i += 1;
                self.unary().map(|a| self.push(Op::Neg(a)))
            }
            Some('+') => {
                self.i += 1;
                self.unary()
            }
            _ => self.power(),
        };
        self.depth -= 1;
        r
    }

    fn power(&mut self) -> Result<usize, ParseError> {
        let a = self.primary()?;
        if self.peek() == Some('^') {
            self.i += 1;
            let b = self.unary()?;
            return Ok(self.push(Op::Pow(a, b)));
        }
        Ok(a)
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected '{c}'{what}")))
        }
    }

    fn primary(&mut self) -> Result<usize, ParseError> {
        let Some(c) = self.peek() else {
            return Err(self.error("expected a number, h1 … hn, a function or '(' but the expression ends"));
        };
        let start = self.i;
        if c == '(' {
            self.i += 1;
            let a = self.sum()?;
            self.expect(')', "")?;
            return Ok(a);
        }
        if c.is_ascii_digit() || c == '.' {
            return self.number(start);
        }
        // ASCII names only: Unicode's letter tables would cost the page's module more than the parser.
        if c.is_ascii_alphabetic() || c == '_' {
            while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == '_') {
                self.i += 1;
            }
            let name: String = self.s[start..self.i].iter().collect();
            return self.name(&name, start);
        }
        Err(self.error(format!("expected a number, h1 … hn, a function or '(', found '{c}'")))
    }

    fn number(&mut self, start: usize) -> Result<usize, ParseError> {
        let digits = |p: &mut Parser| {
            let from = p.i;
            while p.i < p.s.len() && p.s[p.i].is_ascii_digit() {
                p.i += 1;
            }
            p.i - from
        };
        let mut n = digits(self);
        if self.i < self.s.len() && self.s[self.i] == '.' {
            self.i += 1;
            n += digits(self);
        }
        if n == 0 {
            return Err(self.error_at(start, "expected a digit"));
        }
        // An exponent only when a digit follows (`2e3`); `2e` is 2 followed by the name e.
        if self.i < self.s.len() && (self.s[self.i] == 'e' || self.s[self.i] == 'E') {
            let mut j = self.i + 1;
            if j < self.s.len() && (self.s[j] == '+' || self.s[j] == '-') {
                j += 1;
            }
            if j < self.s.len() && self.s[j].is_ascii_digit() {
                self.i = j;
                digits(self);
            }
        }
        let text: String = self.s[start..self.i].iter().collect();
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(self.push(Op::Const(x))),
            _ => Err(self.error_at(start, format!("the number {text} is out of range"))),
        }
    }

    fn name(&mut self, name: &str, start: usize) -> Result<usize, ParseError> {
        let vars = self.vars;
        let units = match vars {
            0 => "there are no units".to_string(),
            1 => "the only variable is h1".to_string(),
            n => format!("the variables are h1 … h{n}"),
        };
        if let Some(index) = name.strip_prefix('h').filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())) {
            return match index.parse::<usize>() {
                Ok(k) if (1..=vars).contains(&k) && !index.starts_with('0') => Ok(self.push(Op::Var(k - 1))),
                _ => Err(self.error_at(start, format!("{name} is not a unit of the last layer: {units}"))),
            };
        }
        match name {
            "pi" => return Ok(self.push(Op::Const(std::f64::consts::PI))),
            "e" => return Ok(self.push(Op::Const(std::f64::consts::E))),
            _ => {}
        }
        if !FUNCTIONS.contains(&name) {
            return Err(self.error_at(
                start,
                format!("unknown name '{name}' ({units}; functions {}; constants pi, e)", FUNCTIONS.join(", ")),
            ));
        }
        self.expect('(', &format!(" after {name}"))?;
        let mut args = vec![self.sum()?];
        while self.peek() == Some(',') {
            self.i += 1;
            args.push(self.sum()?);
        }
        let at = self.i;
        self.expect(')', "")?;
        let pair = name == "min" || name == "max";
        if pair && args.len() < 2 {
            return Err(self.error_at(at, format!("{name} takes two or more arguments")));
        }
        if !pair && args.len() != 1 {
            return Err(self.error_at(at, format!("{name} takes one argument, not {}", args.len())));
        }
        let a = args[0];
        Ok(match name {
            "abs" => self.push(Op::Abs(a)),
            "exp" => self.push(Op::Exp(a)),
            "log" => self.push(Op::Log(a)),
            "sqrt" => self.push(Op::Sqrt(a)),
            "sigmoid" => self.push(Op::Sigmoid(a)),
            _ => {
                let mut acc = a;
                for &b in &args[1..] {
                    acc = self.push(if name == "min" { Op::Min(acc, b) } else { Op::Max(acc, b) });
                }
                acc
            }
        })
    }
}

/// `x^y`: a small integer exponent by multiplications (exact for squares, the same bits
/// everywhere), otherwise `libm::pow`.
fn pow(x: f64, y: f64) -> f64 {
    if y == y.trunc() && y.abs() <= 16.0 {
        let mut n = y.abs() as u32;
        let (mut base, mut acc) = (x, 1.0);
        while n > 0 {
            if n & 1 == 1 {
                acc *= base;
            }
            base *= base;
            n >>= 1;
        }
        if y < 0.0 {
            1.0 / acc
        } else {
            acc
        }
    } else {
        libm::pow(x, y)
    }
}

impl Expr {
    /// The number of instructions.
    pub fn len(&self) -> usize {
        self.code.len()
    }

    /// Always false: a parsed expression has at least one instruction.
    pub fn is_empty(&self) -> bool {
        self.code.is_empty()
    }

    /// Every instruction's value at `h` into `v` (`v.len() == self.len()`).
    fn forward(&self, h: &[f64], v: &mut [f64]) {
        for (k, op) in self.code.iter().enumerate() {
            v[k] = match *op {
                Op::Const(c) => c,
                Op::Var(i) => h[i],
                Op::Neg(a) => -v[a],
                Op::Add(a, b) => v[a] + v[b],
                Op::Sub(a, b) => v[a] - v[b],
                Op::Mul(a, b) => v[a] * v[b],
                Op::Div(a, b) => v[a] / v[b],
                Op::Pow(a, b) => pow(v[a], v[b]),
                Op::Min(a, b) => {
                    if v[b] < v[a] {
                        v[b]
                    } else {
                        v[a]
                    }
                }
                Op::Max(a, b) => {
                    if v[b] > v[a] {
                        v[b]
                    } else {
                        v[a]
                    }
                }
                Op::Abs(a) => v[a].abs(),
                Op::Exp(a) => math::exp(v[a]),
                Op::Log(a) => math::ln(v[a]),
                Op::Sqrt(a) => math::sqrt(v[a]),
                Op::Sigmoid(a) => math::sigmoid(v[a]),
            };
        }
    }

    /// `f(h)`.
    pub fn eval(&self, h: &[f64]) -> f64 {
        let mut v = vec![0.0; self.code.len()];
        self.forward(h, &mut v);
        v[self.code.len() - 1]
    }

    /// `f(h)` with a scratch buffer of [`Expr::len`] entries (no allocation).
    pub fn eval_with(&self, h: &[f64], v: &mut [f64]) -> f64 {
        self.forward(h, v);
        v[self.code.len() - 1]
    }

    /// `∂f/∂h` at `h` into `out` (reverse mode) and `f(h)`. The second value is `Some(what)` when
    /// `f` has no derivative at `h` (`"abs at 0"`, `"a tie in max"`, `"sqrt at 0"`, or an infinite
    /// or undefined derivative); `out` then holds the convention's numbers (finite ones only where
    /// they are finite).
    pub fn gradient(&self, h: &[f64], out: &mut [f64]) -> (f64, Option<&'static str>) {
        let n = self.code.len();
        let mut v = vec![0.0; n];
        let mut adj = vec![0.0; n];
        self.forward(h, &mut v);
        out.iter_mut().for_each(|o| *o = 0.0);
        adj[n - 1] = 1.0;
        let mut kink = None;
        for k in (0..n).rev() {
            let g = adj[k];
            if g == 0.0 {
                continue;
            }
            match self.code[k] {
                Op::Const(_) => {}
                Op::Var(i) => out[i] += g,
                Op::Neg(a) => adj[a] -= g,
                Op::Add(a, b) => {
                    adj[a] += g;
                    adj[b] += g;
                }
                Op::Sub(a, b) => {
                    adj[a] += g;
                    adj[b] -= g;
                }
                Op::Mul(a, b) => {
                    adj[a] += g * v[b];
                    adj[b] += g * v[a];
                }
                Op::Div(a, b) => {
                    adj[a] += g / v[b];
                    adj[b] -= g * v[a] / (v[b] * v[b]);
                }
                Op::Pow(a, b) => {
                    let (x, y) = (v[a], v[b]);
                    if self.varying[a] && y != 0.0 {
                        let d = y * pow(x, y - 1.0);
                        if !d.is_finite() && kink.is_none() {
                            kink = Some("a power with an infinite derivative (x^y at x = 0, y < 1)");
                        }
                        adj[a] += g * d;
                    }
                    if self.varying[b] {
                        if x > 0.0 {
                            adj[b] += g * v[k] * math::ln(x);
                        } else {
                            kink.get_or_insert("a power x^y with x ≤ 0 and a variable exponent");
                        }
                    }
                }
                Op::Min(a, b) | Op::Max(a, b) => {
                    if v[a] == v[b] {
                        kink.get_or_insert(if matches!(self.code[k], Op::Min(..)) {
                            "a tie in min"
                        } else {
                            "a tie in max"
                        });
                    }
                    // The chosen argument: the one forward() returned (the first on a tie).
                    let second = v[k] != v[a];
                    adj[if second { b } else { a }] += g;
                }
                Op::Abs(a) => {
                    if v[a] == 0.0 {
                        kink.get_or_insert("abs at 0");
                    } else if v[a] > 0.0 {
                        adj[a] += g;
                    } else {
                        adj[a] -= g;
                    }
                }
                Op::Exp(a) => adj[a] += g * v[k],
                Op::Log(a) => adj[a] += g / v[a],
                Op::Sqrt(a) => {
                    if v[a] == 0.0 {
                        kink.get_or_insert("sqrt at 0");
                    } else {
                        adj[a] += g * 0.5 / v[k];
                    }
                }
                Op::Sigmoid(a) => adj[a] += g * math::sigmoid_prime(v[a]),
            }
        }
        if kink.is_none() && out.iter().any(|d| !d.is_finite()) {
            kink = Some("an infinite or undefined derivative");
        }
        (v[n - 1], kink)
    }
}

/// A state of `width` units written as in the messages: `(0, 1, 1)` for `h1 = 0, h2 = 1, h3 = 1`.
pub fn state_text(bits: u64, width: usize) -> String {
    let parts: Vec<&str> = (0..width).map(|i| if bits >> i & 1 == 1 { "1" } else { "0" }).collect();
    format!("({})", parts.join(", "))
}

/// An expression loss: the text as typed, its instructions, and its values on every binary state
/// of the last layer's `width` units (bit `i` of the index is `h_{i+1}`), all finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    pub source: String,
    pub width: usize,
    expr: Expr,
    values: Vec<f64>,
    /// The first binary state (in index order) where `f` has no derivative, and why.
    kink: Option<(u64, &'static str)>,
}

impl Formula {
    /// Parse `source` over `width` units, tabulate it on the `2^width` states and check that every
    /// value is finite. The error is one line without the field's name (`column 7: expected ')'`,
    /// `not finite at h = (0, 1)`).
    pub fn new(source: &str, width: usize) -> Result<Formula, String> {
        if width > MAX_WIDTH {
            return Err(format!(
                "the expression loss tabulates f on the 2^n binary states; at most {MAX_WIDTH} units in the last layer (it has {width})"
            ));
        }
        let expr = parse(source, width).map_err(|e| e.to_string())?;
        let mut h = vec![0.0; width];
        let mut scratch = vec![0.0; expr.len()];
        let mut grad = vec![0.0; width];
        let mut values = Vec::with_capacity(1 << width);
        let mut kink = None;
        for s in 0..1u64 << width {
            for (i, x) in h.iter_mut().enumerate() {
                *x = (s >> i & 1) as f64;
            }
            let f = expr.eval_with(&h, &mut scratch);
            if !f.is_finite() {
                return Err(format!("not finite at h = {} (f = {f})", state_text(s, width)));
            }
            if kink.is_none() {
                if let (_, Some(what)) = expr.gradient(&h, &mut grad) {
                    kink = Some((s, what));
                }
            }
            values.push(f);
        }
        Ok(Formula { source: source.to_string(), width, expr, values, kink })
    }

    /// `f` at the binary state `bits`.
    #[inline]
    pub fn value_bits(&self, bits: u64) -> f64 {
        self.values[bits as usize]
    }

    /// `f` at a real `h`, as written.
    pub fn value(&self, h: &[f64]) -> f64 {
        if let Some(bits) = as_bits(h) {
            return self.values[bits as usize];
        }
        self.expr.eval(h)
    }

    /// `∂f/∂h` at a real `h`, as written (by the convention where it has none).
    pub fn gradient(&self, h: &[f64], out: &mut [f64]) {
        self.expr.gradient(h, out);
    }

    /// The first binary state where `f` as written has no derivative: `(state, why)`.
    pub fn kink(&self) -> Option<(u64, &'static str)> {
        self.kink
    }

    /// The parsed expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }
}

/// The state's bit mask when every entry is exactly 0 or 1.
fn as_bits(h: &[f64]) -> Option<u64> {
    let mut bits = 0;
    for (i, &x) in h.iter().enumerate() {
        if x == 1.0 {
            bits |= 1 << i;
        } else if x != 0.0 {
            return None;
        }
    }
    Some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str, h: &[f64]) -> f64 {
        parse(s, h.len()).unwrap_or_else(|e| panic!("{s}: {e}")).eval(h)
    }

    #[test]
    fn precedence_and_associativity() {
        let h = [3.0, 2.0];
        assert_eq!(ev("-h1^2", &h), -9.0);
        assert_eq!(ev("(-h1)^2", &h), 9.0);
        assert_eq!(ev("2^3^2", &h), 512.0);
        assert_eq!(ev("2^-1", &h), 0.5);
        assert_eq!(ev("h1 - h2 - 1", &h), 0.0);
        assert_eq!(ev("h1 / h2 / 2", &h), 0.75);
        assert_eq!(ev("1 + 2 * 3 ^ 2", &h), 19.0);
        assert_eq!(ev("--h1", &h), 3.0);
        assert_eq!(ev("+h1 * -h2", &h), -6.0);
        assert_eq!(ev("max(h1, h2, 7) + min(h1, h2)", &h), 9.0);
        assert_eq!(ev("abs(h2 - h1)", &h), 1.0);
        assert_eq!(ev("2e1 + 1.5E-1 + .5", &h), 20.65);
        assert_eq!(ev("2*e", &h), 2.0 * std::f64::consts::E);
        assert_eq!(ev("pi", &h), std::f64::consts::PI);
        assert_eq!(ev("sigmoid(0) + exp(0) + log(1) + sqrt(4)", &h), 3.5);
        assert_eq!(ev("(h1 - 0.45)^2", &[1.0]), 0.55 * 0.55);
    }

    #[test]
    fn errors_point_at_the_column() {
        let err = |s: &str, n: usize| parse(s, n).unwrap_err();
        let e = err("(h1 + 1", 1);
        assert_eq!((e.column, e.message.as_str()), (8, "expected ')'"));
        assert_eq!(e.to_string(), "column 8: expected ')'");
        assert_eq!(err("max(h1 + 1", 1).to_string(), "column 11: expected ')'");
        assert_eq!(err("h1 + h3", 2).column, 6);
        assert!(err("h1 + h3", 2).message.contains("h3 is not a unit"));
        assert!(err("h0", 2).message.contains("the variables are h1 … h2"), "{}", err("h0", 2));
        assert!(err("h01", 2).message.contains("not a unit"));
        assert_eq!(err("h1 h2", 2).column, 4);
        assert_eq!(err("h1 )", 2).message, "unmatched ')'");
        assert_eq!(err("foo(h1)", 1).column, 1);
        assert!(err("foo(h1)", 1).message.contains("unknown name 'foo'"));
        assert_eq!(err("abs h1", 1).to_string(), "column 5: expected '(' after abs");
        assert!(err("abs(h1, h1)", 1).message.contains("one argument"));
        assert!(err("max(h1)", 1).message.contains("two or more"));
        assert_eq!(err("", 1).column, 1);
        assert_eq!(err("   ", 1).column, 1);
        assert_eq!(err("h1 +", 1).column, 5);
        assert_eq!(err("1e999", 1).message, "the number 1e999 is out of range");
        assert_eq!(err("h1 * # 2", 1).column, 6);
        assert!(err(&"(".repeat(500), 1).message.contains("nested too deeply"));
        assert!(err(&"-".repeat(500), 1).message.contains("nested too deeply"));
        assert_eq!(err(&"1+".repeat(1001), 1).column, MAX_LEN + 1);
        // Columns count characters, not bytes.
        assert_eq!(err("h1 − 1", 1).column, 4);
    }

    #[test]
    fn derivatives_and_kinks() {
        let g = |s: &str, h: &[f64]| {
            let mut out = vec![0.0; h.len()];
            let (_, k) = parse(s, h.len()).unwrap().gradient(h, &mut out);
            (out, k)
        };
        assert_eq!(g("h1 * h2 + h1^2", &[3.0, 2.0]), (vec![8.0, 3.0], None));
        assert_eq!(g("abs(h1 - 1)", &[1.0]).1, Some("abs at 0"));
        assert_eq!(g("abs(h1 - 1)", &[0.0]), (vec![-1.0], None));
        assert_eq!(g("max(h1, h2)", &[1.0, 1.0]).1, Some("a tie in max"));
        assert_eq!(g("min(h1, h2)", &[0.0, 1.0]), (vec![1.0, 0.0], None));
        assert_eq!(g("sqrt(h1)", &[0.0]).1, Some("sqrt at 0"));
        assert!(g("h1^0.5", &[0.0]).1.is_some());
        assert_eq!(g("h1^0", &[0.0]), (vec![0.0], None));
        assert_eq!(g("2^h1", &[1.0]).0, vec![2.0 * std::f64::consts::LN_2]);
        // A kink that does not reach f is no kink.
        assert_eq!(g("0 * abs(h1)", &[0.0]).1, None);
    }

    #[test]
    fn formula_tabulates_and_refuses_non_finite_states() {
        let f = Formula::new("h1 + 2*h2", 2).unwrap();
        assert_eq!((0..4).map(|s| f.value_bits(s)).collect::<Vec<_>>(), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(f.value(&[0.5, 0.25]), 1.0);
        assert_eq!(Formula::new("log(h1) + h2", 2).unwrap_err(), "not finite at h = (0, 0) (f = -inf)");
        assert_eq!(Formula::new("1 / (h1 - h2)", 2).unwrap_err(), "not finite at h = (0, 0) (f = inf)");
        assert_eq!(Formula::new("h2 / h1", 2).unwrap_err(), "not finite at h = (0, 0) (f = NaN)");
        assert_eq!(Formula::new("log(h2 - h1 + 1)", 2).unwrap_err(), "not finite at h = (1, 0) (f = -inf)");
        assert_eq!(Formula::new("abs(h1 + h2 - 1)", 2).unwrap().kink(), Some((1, "abs at 0")));
        assert_eq!(Formula::new("(h1 - 0.45)^2", 1).unwrap().kink(), None);
        assert!(Formula::new("h1", MAX_WIDTH + 1).unwrap_err().contains("at most 16 units"));
    }
}
