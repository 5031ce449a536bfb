//! `#if` expressions: intmax_t/uintmax_t arithmetic as gcc's cpplib does it
//! (the usual arithmetic conversions, wrap-around, short-circuit evaluation
//! where division by zero in an unevaluated operand is not an error).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Val {
    pub v: u64,
    pub unsigned: bool,
}

impl Val {
    fn s(v: i64) -> Val {
        Val {
            v: v as u64,
            unsigned: false,
        }
    }
    fn truth(self) -> bool {
        self.v != 0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ETok {
    Num(Val),
    Op(String),
    /// A token that cannot appear in an expression (its spelling).
    Bad(String),
}

struct P<'a> {
    toks: &'a [ETok],
    pos: usize,
    skip: u32,
    depth: u32,
}

/// Parentheses, unary operators and `?:` nested deeper than this are an error
/// (the parser recurses).
const MAX_DEPTH: u32 = 256;

type R = Result<Val, String>;

fn prec(op: &str) -> Option<u8> {
    Some(match op {
        "*" | "/" | "%" => 10,
        "+" | "-" => 9,
        "<<" | ">>" => 8,
        "<" | ">" | "<=" | ">=" => 7,
        "==" | "!=" => 6,
        "&" => 5,
        "^" => 4,
        "|" => 3,
        "&&" => 2,
        "||" => 1,
        _ => return None,
    })
}

fn spell(t: Option<&ETok>) -> String {
    match t {
        None => "end of line".into(),
        Some(ETok::Num(v)) => {
            if v.unsigned {
                format!("{}", v.v)
            } else {
                format!("{}", v.v as i64)
            }
        }
        Some(ETok::Op(s)) | Some(ETok::Bad(s)) => format!("\"{s}\""),
    }
}

impl P<'_> {
    fn peek(&self) -> Option<&ETok> {
        self.toks.get(self.pos)
    }
    fn peek_op(&self) -> Option<&str> {
        match self.peek() {
            Some(ETok::Op(s)) => Some(s),
            _ => None,
        }
    }

    /// conditional-expression, with the comma operator at the top
    fn comma(&mut self) -> R {
        let mut v = self.cond()?;
        while self.peek_op() == Some(",") {
            self.pos += 1;
            v = self.cond()?;
        }
        Ok(v)
    }

    fn cond(&mut self) -> R {
        if self.depth >= MAX_DEPTH {
            return Err(format!("#if expression nested more than {MAX_DEPTH} deep"));
        }
        self.depth += 1;
        let r = self.cond_inner();
        self.depth -= 1;
        r
    }

    fn cond_inner(&mut self) -> R {
        let c = self.binary(1)?;
        if self.peek_op() != Some("?") {
            return Ok(c);
        }
        self.pos += 1;
        let take = c.truth();
        if !take {
            self.skip += 1;
        }
        let a = self.comma();
        if !take {
            self.skip -= 1;
        }
        let a = a?;
        if self.peek_op() != Some(":") {
            return Err(format!(
                "'?' without following ':' (found {})",
                spell(self.peek())
            ));
        }
        self.pos += 1;
        if take {
            self.skip += 1;
        }
        let b = self.cond();
        if take {
            self.skip -= 1;
        }
        let b = b?;
        let unsigned = a.unsigned || b.unsigned;
        let r = if take { a } else { b };
        Ok(Val { v: r.v, unsigned })
    }

    fn binary(&mut self, min: u8) -> R {
        let mut lhs = self.unary()?;
        loop {
            let Some(op) = self.peek_op().map(str::to_string) else {
                match self.peek() {
                    Some(t @ ETok::Num(_)) | Some(t @ ETok::Bad(_)) => {
                        return Err(format!(
                            "missing binary operator before token {}",
                            spell(Some(t))
                        ))
                    }
                    _ => return Ok(lhs),
                }
            };
            let Some(p) = prec(&op) else {
                return Ok(lhs);
            };
            if p < min {
                return Ok(lhs);
            }
            self.pos += 1;
            if op == "&&" || op == "||" {
                let short = if op == "&&" {
                    !lhs.truth()
                } else {
                    lhs.truth()
                };
                if short {
                    self.skip += 1;
                }
                let rhs = self.binary(p + 1);
                if short {
                    self.skip -= 1;
                }
                let rhs = rhs?;
                let r = if op == "&&" {
                    lhs.truth() && rhs.truth()
                } else {
                    lhs.truth() || rhs.truth()
                };
                lhs = Val::s(r as i64);
                continue;
            }
            let rhs = self.binary(p + 1)?;
            lhs = self.apply(&op, lhs, rhs)?;
        }
    }

    fn apply(&self, op: &str, a: Val, b: Val) -> R {
        let unsigned = a.unsigned || b.unsigned;
        let (x, y) = (a.v, b.v);
        let (sx, sy) = (x as i64, y as i64);
        let u = |v: u64| Val { v, unsigned };
        let t = |c: bool| Val::s(c as i64);
        Ok(match op {
            "*" => u(x.wrapping_mul(y)),
            "/" | "%" => {
                if y == 0 {
                    if self.skip > 0 {
                        return Ok(u(0));
                    }
                    return Err("division by zero in #if".into());
                }
                if unsigned {
                    u(if op == "/" { x / y } else { x % y })
                } else if op == "/" {
                    u(sx.wrapping_div(sy) as u64)
                } else {
                    u(sx.wrapping_rem(sy) as u64)
                }
            }
            "+" => u(x.wrapping_add(y)),
            "-" => u(x.wrapping_sub(y)),
            "<<" | ">>" => {
                // the result has the left operand's type; a negative count shifts the other way
                let left = op == "<<";
                let (left, n) = if !b.unsigned && sy < 0 {
                    (!left, sy.unsigned_abs())
                } else {
                    (left, y)
                };
                let v = if left {
                    if n >= 64 {
                        0
                    } else {
                        x << n
                    }
                } else if a.unsigned {
                    if n >= 64 {
                        0
                    } else {
                        x >> n
                    }
                } else if n >= 64 {
                    if sx < 0 {
                        u64::MAX
                    } else {
                        0
                    }
                } else {
                    (sx >> n) as u64
                };
                Val {
                    v,
                    unsigned: a.unsigned,
                }
            }
            "<" | ">" | "<=" | ">=" => {
                let ord = if unsigned { x.cmp(&y) } else { sx.cmp(&sy) };
                t(match op {
                    "<" => ord.is_lt(),
                    ">" => ord.is_gt(),
                    "<=" => ord.is_le(),
                    _ => ord.is_ge(),
                })
            }
            "==" => t(x == y),
            "!=" => t(x != y),
            "&" => u(x & y),
            "^" => u(x ^ y),
            "|" => u(x | y),
            _ => return Err(format!("operator '{op}' has no left operand")),
        })
    }

    fn unary(&mut self) -> R {
        if self.depth >= MAX_DEPTH {
            return Err(format!("#if expression nested more than {MAX_DEPTH} deep"));
        }
        self.depth += 1;
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> R {
        let Some(t) = self.peek().cloned() else {
            return Err("#if with no expression".into());
        };
        self.pos += 1;
        match t {
            ETok::Num(v) => Ok(v),
            ETok::Bad(s) => Err(format!(
                "token \"{s}\" is not valid in preprocessor expressions"
            )),
            ETok::Op(op) => match op.as_str() {
                "(" => {
                    if self.peek_op() == Some(")") {
                        return Err("missing expression between '(' and ')'".into());
                    }
                    let v = self.comma()?;
                    if self.peek_op() != Some(")") {
                        return Err(format!(
                            "missing ')' in expression (found {})",
                            spell(self.peek())
                        ));
                    }
                    self.pos += 1;
                    Ok(v)
                }
                "+" => self.unary(),
                "-" => {
                    let v = self.unary()?;
                    Ok(Val {
                        v: v.v.wrapping_neg(),
                        unsigned: v.unsigned,
                    })
                }
                "~" => {
                    let v = self.unary()?;
                    Ok(Val {
                        v: !v.v,
                        unsigned: v.unsigned,
                    })
                }
                "!" => {
                    let v = self.unary()?;
                    Ok(Val::s(!v.truth() as i64))
                }
                _ => Err(format!("operator '{op}' has no left operand")),
            },
        }
    }
}

/// Evaluate a whole `#if` expression.
pub(super) fn eval(toks: &[ETok]) -> Result<bool, String> {
    if toks.is_empty() {
        return Err("#if with no expression".into());
    }
    let mut p = P {
        toks,
        pos: 0,
        skip: 0,
        depth: 0,
    };
    let v = p.comma()?;
    if p.pos < toks.len() {
        return Err(match &toks[p.pos] {
            ETok::Op(s) if s == ")" => "missing '(' in expression".into(),
            ETok::Op(s) if s == ":" => "':' without preceding '?'".into(),
            t => format!("missing binary operator before token {}", spell(Some(t))),
        });
    }
    Ok(v.truth())
}

/// The value of a pp-number in `#if` (integers only, as cpplib: decimal, octal,
/// hex, binary; `u`/`l`/`ll` suffixes; a decimal too large for intmax_t is unsigned).
pub(super) fn number(s: &str) -> Result<Val, String> {
    let lower = s.to_ascii_lowercase();
    let (digits, radix) = if let Some(r) = lower.strip_prefix("0x") {
        (r, 16)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (r, 2)
    } else if lower.starts_with('0') {
        (&lower[..], 8)
    } else {
        (&lower[..], 10)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    let (num, suffix) = digits.split_at(end);
    let floaty = |c: char| c == '.' || (radix != 16 && c == 'e') || (radix == 16 && c == 'p');
    if suffix.starts_with(floaty)
        || (radix == 8 && suffix.starts_with(|c: char| c.is_ascii_digit()))
    {
        if radix == 8 && suffix.starts_with(['8', '9']) {
            return Err(format!("invalid digit in octal constant \"{s}\""));
        }
        return Err("floating constant in preprocessor expression".into());
    }
    let unsigned_suffix = match suffix {
        "" | "l" | "ll" => false,
        "u" | "ul" | "lu" | "ull" | "llu" => true,
        _ => {
            return Err(format!(
                "invalid suffix \"{}\" on integer constant",
                &s[s.len() - suffix.len()..]
            ))
        }
    };
    if num.is_empty() && radix != 8 {
        return Err(format!("invalid integer constant \"{s}\" in #if"));
    }
    let v = if num.is_empty() {
        0
    } else {
        u64::from_str_radix(num, radix)
            .map_err(|_| "integer constant is too large for its type".to_string())?
    };
    Ok(Val {
        v,
        unsigned: unsigned_suffix || v > i64::MAX as u64,
    })
}

/// The value of a character constant as gcc gives it on x86 (signed char,
/// multi-character constants packed into an int).
pub(super) fn char_const(s: &str) -> Result<Val, String> {
    let wide = s.starts_with('L');
    let body = s.trim_start_matches('L');
    let inner = &body[1..body.len() - 1];
    let b = inner.as_bytes();
    let mut chars: Vec<u32> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            let ch = inner[i..].chars().next().unwrap_or('\0');
            if ch.is_ascii() || wide {
                chars.push(ch as u32);
            } else {
                chars.extend(inner[i..i + ch.len_utf8()].bytes().map(u32::from));
            }
            i += ch.len_utf8();
            continue;
        }
        i += 1;
        let Some(&e) = b.get(i) else { break };
        i += 1;
        let v = match e {
            b'n' => 10,
            b't' => 9,
            b'r' => 13,
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'v' => 11,
            b'e' | b'E' => 27,
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                let mut n = 1;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + u32::from(b[i] - b'0');
                    i += 1;
                    n += 1;
                }
                v
            }
            b'x' => {
                let mut v: u32 = 0;
                while i < b.len() && b[i].is_ascii_hexdigit() {
                    v = v.wrapping_mul(16) + (b[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                }
                v
            }
            c => u32::from(c),
        };
        chars.push(v);
    }
    if chars.is_empty() {
        return Err("empty character constant".into());
    }
    if wide {
        // wchar_t is a signed 32-bit int on x86-64 Linux
        let v = *chars.last().unwrap_or(&0) as i32;
        return Ok(Val::s(v as i64));
    }
    if chars.len() == 1 {
        return Ok(Val::s(chars[0] as u8 as i8 as i64));
    }
    let mut r: u32 = 0;
    for c in chars {
        r = (r << 8) | (c & 0xff);
    }
    Ok(Val::s(r as i32 as i64))
}
