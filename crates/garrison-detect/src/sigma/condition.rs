//! The `condition` language: identifiers, `and`, `or`, `not`, parentheses,
//! `1 of x*`, `all of x*`, `N of them`. Precedence: `not` > `and` > `or`.
//! Nesting is bounded: a hostile condition is rejected, never a stack
//! overflow.

use super::Cond;

/// The deepest parenthesis / `not` nesting a condition may have.
pub(crate) const MAX_DEPTH: usize = 64;
/// The longest condition text accepted.
const MAX_LEN: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Not,
    Of,
    Them,
    All,
    Num(usize),
    Ident(String),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    if s.len() > MAX_LEN {
        return Err(format!("condition longer than {MAX_LEN} bytes"));
    }
    if s.contains('|') {
        return Err(
            "aggregation in the condition (`| count() ...`, Sigma 1.0) is not supported; use a correlation rule"
                .to_owned(),
        );
    }
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' {
            out.push(Tok::Open);
            chars.next();
        } else if c == ')' {
            out.push(Tok::Close);
            chars.next();
        } else if c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.' | '?') {
            let mut end = i;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_alphanumeric() || matches!(d, '_' | '*' | '-' | '.' | '?') {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let word = &s[i..end];
            out.push(match word.to_ascii_lowercase().as_str() {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                "of" => Tok::Of,
                "them" => Tok::Them,
                "all" => Tok::All,
                w if w.bytes().all(|b| b.is_ascii_digit()) => {
                    Tok::Num(w.parse().map_err(|_| format!("number too large: {w}"))?)
                }
                _ => Tok::Ident(word.to_owned()),
            });
        } else {
            return Err(format!("unexpected character {c:?} in the condition"));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    names: &'a [String],
}

/// Parses `cond` over the detection `names` (by index).
pub(crate) fn parse(cond: &str, names: &[String]) -> Result<Cond, String> {
    let toks = lex(cond)?;
    if toks.is_empty() {
        return Err("empty condition".to_owned());
    }
    let mut p = Parser {
        toks,
        pos: 0,
        names,
    };
    let c = p.or(0)?;
    if p.pos != p.toks.len() {
        return Err(format!(
            "unexpected {:?} in the condition after a complete expression",
            p.toks[p.pos]
        ));
    }
    Ok(c)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self, depth: usize) -> Result<Cond, String> {
        let mut parts = vec![self.and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Cond::Const(false))
        } else {
            Cond::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Cond, String> {
        let mut parts = vec![self.unary(depth)?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Cond::Const(false))
        } else {
            Cond::And(parts)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Cond, String> {
        if depth > MAX_DEPTH {
            return Err(format!("condition nested deeper than {MAX_DEPTH} levels"));
        }
        match self.next() {
            Some(Tok::Not) => Ok(Cond::Not(Box::new(self.unary(depth + 1)?))),
            Some(Tok::Open) => {
                let c = self.or(depth + 1)?;
                match self.next() {
                    Some(Tok::Close) => Ok(c),
                    _ => Err("unbalanced parenthesis in the condition".to_owned()),
                }
            }
            Some(Tok::Num(n)) => self.of(Some(n)),
            Some(Tok::All) => self.of(None),
            Some(Tok::Ident(name)) => match self.names.iter().position(|n| *n == name) {
                Some(i) => Ok(Cond::Det(i)),
                None => Err(format!(
                    "the condition names {name:?}, which is not in the detection"
                )),
            },
            Some(t) => Err(format!("unexpected {t:?} in the condition")),
            None => Err("the condition ends too early".to_owned()),
        }
    }

    fn of(&mut self, n: Option<usize>) -> Result<Cond, String> {
        if self.next() != Some(Tok::Of) {
            return Err("expected `of` after a number or `all` in the condition".to_owned());
        }
        let ids: Vec<usize> = match self.next() {
            Some(Tok::Them) => (0..self.names.len())
                .filter(|&i| !self.names[i].starts_with('_'))
                .collect(),
            Some(Tok::Ident(pat)) => (0..self.names.len())
                .filter(|&i| glob(&pat, &self.names[i]))
                .collect(),
            _ => return Err("expected `them` or a name pattern after `of`".to_owned()),
        };
        if ids.is_empty() {
            return Err("an `of` pattern in the condition names no detection".to_owned());
        }
        Ok(match n {
            None => Cond::Of(None, ids),
            Some(0) => Cond::Const(true),
            Some(n) => Cond::Of(Some(n), ids),
        })
    }
}

/// `*` (any run) and `?` (one character) matching of detection names.
pub(crate) fn glob(pat: &str, name: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = name.chars().collect();
    // Iterative wildcard matching with one backtrack point (linear-ish).
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}
