//! The Kconfig macro language (Linux `scripts/kconfig/preprocess.c`, also in
//! Xen's copy): variables assigned with `:=` (simple), `=` (recursive) and `+=`,
//! references `$(NAME)`, user functions `$(NAME,arg,...)` with `$(1)`..., and the
//! built-ins `info`, `warning-if`, `error-if`, `filename`, `lineno`, `if` and
//! `shell`.
//!
//! Nothing is ever run. `$(shell,...)` and the probe macros that the tree
//! defines on top of it (`success`, `failure`, `cc-option`, `ld-option`,
//! `as-instr`, ...) are answered by a [`Toolchain`]: probes are recognised by the
//! macro's name and its arguments (the flag asked about), not by the shell text
//! the tree wrote, so a series that changes how `cc-option` is spelled still gets
//! the same answer. Every expansion is bounded in depth and total work.

use std::collections::BTreeMap;

/// Answers for what a real build would ask the machine.
pub trait Toolchain {
    /// The answer to a probe macro (`cc-option`, `ld-option`, `as-instr`,
    /// `success`, `failure`, ...) called with `args`, or None when this is not a
    /// probe this toolchain recognises (the macro is then expanded normally).
    fn probe(&self, name: &str, args: &[String]) -> Option<Answer>;
    /// The output of `$(shell,cmd)` (never run: looked up).
    fn shell(&self, cmd: &str) -> Answer;
}

/// A toolchain answer, and whether it came from the table or is the declared
/// default for things the table does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub value: String,
    pub guessed: bool,
}

/// A toolchain that knows nothing: every probe fails, every shell is empty.
pub struct NoToolchain;

impl Toolchain for NoToolchain {
    fn probe(&self, name: &str, _args: &[String]) -> Option<Answer> {
        match name {
            "success" | "cc-option" | "ld-option" | "as-instr" | "as-option" | "cc-option-bit"
            | "rustc-option" => Some(Answer {
                value: "n".into(),
                guessed: true,
            }),
            "failure" => Some(Answer {
                value: "y".into(),
                guessed: true,
            }),
            _ => None,
        }
    }
    fn shell(&self, _cmd: &str) -> Answer {
        Answer {
            value: String::new(),
            guessed: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Flavor {
    Simple,
    Recursive,
}

#[derive(Debug, Clone)]
struct Var {
    value: String,
    flavor: Flavor,
}

/// A problem the macro language reports (with the file and line it happened at).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct MacroError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// How deep expansions may nest, and how much work one line may cost.
pub const MAX_DEPTH: usize = 64;
pub const MAX_WORK: usize = 1_000_000;

/// The macro environment of one Kconfig run.
pub struct Macros<'t> {
    vars: BTreeMap<String, Var>,
    /// Environment variables the tree may read (`SRCARCH`, `CC`, ...).
    env: BTreeMap<String, String>,
    toolchain: &'t dyn Toolchain,
    /// Messages from `$(info)` and `$(warning-if)`, in order.
    pub messages: Vec<String>,
    /// `$(warning-if)` messages (conf prints them to stderr), in order.
    pub warnings: Vec<String>,
    /// Recursive variables being expanded (a variable met again references itself).
    expanding: Vec<String>,
    /// Probes answered with a guess (not from the table), for reports.
    pub guessed: Vec<String>,
    /// Environment variables that were read (inputs of the result).
    pub env_used: BTreeMap<String, Option<String>>,
    /// Environment variables found, in the order first referenced (conf writes
    /// them to `auto.conf.cmd` in this order).
    pub env_order: Vec<(String, String)>,
    pub file: String,
    pub line: usize,
    work: usize,
}

fn split_args(s: &str) -> Vec<&str> {
    // split on top-level commas (not inside nested $( ))
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'$' if b.get(i + 1) == Some(&b'(') => {
                depth += 1;
                i += 2;
                continue;
            }
            b'(' if depth > 0 => depth += 1,
            b')' if depth > 0 => depth -= 1,
            b',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// Find the `)` closing a `$(` whose contents start at `from`.
fn closing(s: &str, from: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 1usize;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

impl<'t> Macros<'t> {
    pub fn new(toolchain: &'t dyn Toolchain, env: BTreeMap<String, String>) -> Self {
        Macros {
            vars: BTreeMap::new(),
            env,
            toolchain,
            messages: Vec::new(),
            warnings: Vec::new(),
            expanding: Vec::new(),
            guessed: Vec::new(),
            env_used: BTreeMap::new(),
            env_order: Vec::new(),
            file: String::new(),
            line: 0,
            work: 0,
        }
    }

    fn err(&self, message: impl Into<String>) -> MacroError {
        MacroError {
            file: self.file.clone(),
            line: self.line,
            message: message.into(),
        }
    }

    /// `NAME := value`, `NAME = value`, `NAME += value`.
    pub fn assign(&mut self, name: &str, op: &str, value: &str) -> Result<(), MacroError> {
        let name = self.expand(name)?.trim().to_string();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(self.err(format!("invalid variable name '{name}'")));
        }
        match op {
            ":=" => {
                let v = self.expand(value)?;
                self.vars.insert(
                    name,
                    Var {
                        value: v,
                        flavor: Flavor::Simple,
                    },
                );
            }
            "=" => {
                self.vars.insert(
                    name,
                    Var {
                        value: value.to_string(),
                        flavor: Flavor::Recursive,
                    },
                );
            }
            "+=" => {
                let (flavor, old) = match self.vars.get(&name) {
                    Some(v) => (v.flavor.clone(), v.value.clone()),
                    None => (Flavor::Recursive, String::new()),
                };
                let add = if flavor == Flavor::Simple {
                    self.expand(value)?
                } else {
                    value.to_string()
                };
                let joined = if old.is_empty() {
                    add
                } else {
                    format!("{old} {add}")
                };
                self.vars.insert(
                    name,
                    Var {
                        value: joined,
                        flavor,
                    },
                );
            }
            _ => return Err(self.err(format!("unknown assignment operator '{op}'"))),
        }
        Ok(())
    }

    /// Expand every `$(...)` in `text`.
    pub fn expand(&mut self, text: &str) -> Result<String, MacroError> {
        self.work = 0;
        self.expand_depth(text, &[], 0)
    }

    fn expand_depth(
        &mut self,
        text: &str,
        args: &[String],
        depth: usize,
    ) -> Result<String, MacroError> {
        if depth > MAX_DEPTH {
            return Err(
                self.err("macro expansion nested too deeply (a macro that expands itself?)")
            );
        }
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while let Some(rel) = text[i..].find("$(") {
            let start = i + rel;
            out.push_str(&text[i..start]);
            let Some(end) = closing(text, start + 2) else {
                return Err(self.err("unterminated reference to a macro: '$(' without ')'"));
            };
            self.work += end - start;
            if self.work > MAX_WORK {
                return Err(self.err("macro expansion too large"));
            }
            let inner = &text[start + 2..end];
            let v = self.call(inner, args, depth)?;
            out.push_str(&v);
            if out.len() > MAX_WORK {
                return Err(self.err("macro expansion too large"));
            }
            i = end + 1;
        }
        out.push_str(&text[i..]);
        Ok(out)
    }

    fn call(&mut self, inner: &str, args: &[String], depth: usize) -> Result<String, MacroError> {
        let parts = split_args(inner);
        let name = self.expand_depth(parts[0], args, depth + 1)?;
        let raw_args = &parts[1..];
        // $(1), $(2)... inside a user function
        if raw_args.is_empty() {
            if let Ok(n) = name.trim().parse::<usize>() {
                return Ok(args.get(n.wrapping_sub(1)).cloned().unwrap_or_default());
            }
        }
        let name = name.trim().to_string();
        // `if` expands only the branch it takes
        if name == "if" {
            if raw_args.len() < 2 || raw_args.len() > 3 {
                return Err(self.err("too few or too many arguments for 'if'"));
            }
            let cond = self.expand_depth(raw_args[0], args, depth + 1)?;
            let branch = if !cond.trim().is_empty() {
                raw_args.get(1)
            } else {
                raw_args.get(2)
            };
            return match branch {
                Some(b) => self.expand_depth(b, args, depth + 1),
                None => Ok(String::new()),
            };
        }
        let mut values = Vec::with_capacity(raw_args.len());
        for a in raw_args {
            values.push(self.expand_depth(a, args, depth + 1)?);
        }
        match name.as_str() {
            "info" => {
                self.messages.push(values.join(","));
                return Ok(String::new());
            }
            "warning-if" => {
                if values.len() != 2 {
                    return Err(self.err("warning-if takes 2 arguments"));
                }
                if values[0].trim() == "y" {
                    self.warnings
                        .push(format!("{}:{}: {}", self.file, self.line, values[1]));
                }
                return Ok(String::new());
            }
            "error-if" => {
                if values.len() != 2 {
                    return Err(self.err("error-if takes 2 arguments"));
                }
                if values[0].trim() == "y" {
                    return Err(self.err(values[1].clone()));
                }
                return Ok(String::new());
            }
            "filename" => return Ok(self.file.clone()),
            "lineno" => return Ok(self.line.to_string()),
            "shell" => {
                let a = self.toolchain.shell(&values.join(","));
                if a.guessed {
                    self.guessed.push(format!("shell,{}", values.join(",")));
                }
                // like make: newlines become spaces, trailing ones dropped
                return Ok(a.value.trim_end_matches('\n').replace('\n', " "));
            }
            _ => {}
        }
        if let Some(a) = self.toolchain.probe(&name, &values) {
            if a.guessed {
                self.guessed.push(format!("{name},{}", values.join(",")));
            }
            return Ok(a.value);
        }
        if let Some(var) = self.vars.get(&name).cloned() {
            return match var.flavor {
                Flavor::Simple if values.is_empty() => Ok(var.value),
                _ => {
                    if self.expanding.contains(&name) {
                        return Err(self.err(format!(
                            "Recursive variable '{name}' references itself (eventually)"
                        )));
                    }
                    self.expanding.push(name.clone());
                    let r = self.expand_depth(&var.value, &values, depth + 1);
                    self.expanding.pop();
                    r
                }
            };
        }
        if values.is_empty() {
            let v = self.env.get(&name).cloned();
            if let Some(val) = &v {
                if !self.env_order.iter().any(|(n, _)| *n == name) {
                    self.env_order.push((name.clone(), val.clone()));
                }
            }
            self.env_used.insert(name.clone(), v.clone());
            return Ok(v.unwrap_or_default());
        }
        Err(self.err(format!("unknown function '{name}'")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct T;
    impl Toolchain for T {
        fn probe(&self, name: &str, args: &[String]) -> Option<Answer> {
            (name == "cc-option").then(|| Answer {
                value: if args[0] == "-falign-functions" {
                    "y"
                } else {
                    "n"
                }
                .into(),
                guessed: false,
            })
        }
        fn shell(&self, cmd: &str) -> Answer {
            Answer {
                value: if cmd.contains("--version") {
                    "gcc (Debian 12.2.0-14) 12.2.0\nmore\n".into()
                } else {
                    String::new()
                },
                guessed: false,
            }
        }
    }

    #[test]
    fn variables_functions_and_builtins() {
        let mut env = BTreeMap::new();
        env.insert("SRCARCH".to_string(), "x86".to_string());
        let t = T;
        let mut m = Macros::new(&t, env);
        m.assign("greet", "=", "hello $(1) from $(2)").unwrap();
        assert_eq!(
            m.expand("$(greet,world,$(SRCARCH))").unwrap(),
            "hello world from x86"
        );
        m.assign("A", ":=", "a").unwrap();
        m.assign("B", "=", "$(A)").unwrap();
        m.assign("A", ":=", "changed").unwrap();
        assert_eq!(m.expand("$(B)").unwrap(), "changed");
        m.assign("A", "+=", "more").unwrap();
        assert_eq!(m.expand("$(A)").unwrap(), "changed more");
        assert_eq!(m.expand("$(if,x,yes,no)$(if,,yes,no)").unwrap(), "yesno");
        assert_eq!(m.expand("$(cc-option,-falign-functions)").unwrap(), "y");
        assert_eq!(
            m.expand("$(shell,$(CC) --version)").unwrap(),
            "gcc (Debian 12.2.0-14) 12.2.0 more"
        );
        assert!(m.env_used.contains_key("CC"));
        m.file = "Kconfig".into();
        m.line = 7;
        assert_eq!(m.expand("$(filename):$(lineno)").unwrap(), "Kconfig:7");
        assert!(m
            .expand("$(error-if,y,stop here)")
            .unwrap_err()
            .message
            .contains("stop here"));
        assert_eq!(m.expand("$(info,hi)").unwrap(), "");
        assert_eq!(m.messages, vec!["hi"]);
    }

    #[test]
    fn self_reference_is_an_error_not_a_hang() {
        let t = NoToolchain;
        let mut m = Macros::new(&t, BTreeMap::new());
        m.assign("X", "=", "$(X)$(X)").unwrap();
        assert!(m.expand("$(X)").is_err());
        m.assign("Y", "=", "$(Y) y").unwrap();
        assert!(m.expand("$(Y)").is_err());
        assert!(m.expand("$(unterminated").is_err());
    }
}
