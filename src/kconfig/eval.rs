//! Evaluation with `scripts/kconfig/conf` semantics (`symbol.c`, `menu.c`,
//! `confdata.c`): dependencies propagated from menus, `if` blocks and choices;
//! visibility from prompts and `visible if`; defaults, `select` (reverse
//! dependencies), `imply`, ranges, choices, `modules`; and which symbols are
//! written: an `int`/`hex`/`string` with no visible prompt and no active default is
//! not written at all.
//!
//! Inputs are user values (from a defconfig, a `.config` or overlay fragments);
//! outputs are the `.config` and `autoconf.h` texts as conf writes them, and a
//! typed map of values.

use std::collections::{BTreeMap, HashMap};

use super::parse::{CmpOp, ConfigEntry, Expr, Node, Parsed, PropKind, Type};

/// Tristate values; the order is conf's (`no < mod < yes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Tri {
    #[default]
    N = 0,
    M = 1,
    Y = 2,
}

impl Tri {
    fn and(self, o: Tri) -> Tri {
        self.min(o)
    }
    fn or(self, o: Tri) -> Tri {
        self.max(o)
    }
    fn not(self) -> Tri {
        match self {
            Tri::N => Tri::Y,
            Tri::M => Tri::M,
            Tri::Y => Tri::N,
        }
    }
    fn letter(self) -> &'static str {
        match self {
            Tri::N => "n",
            Tri::M => "m",
            Tri::Y => "y",
        }
    }
}

fn and(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(Expr::And(Box::new(a), Box::new(b))),
    }
}

fn or(a: Option<Expr>, b: Expr) -> Option<Expr> {
    match a {
        None => Some(b),
        Some(a) => Some(Expr::Or(Box::new(a), Box::new(b))),
    }
}

#[derive(Debug, Clone, Default)]
struct Sym {
    name: String,
    typ: Option<Type>,
    /// Prompt visibility expressions (None: always).
    prompts: Vec<Option<Expr>>,
    /// (value, condition including dependencies)
    defaults: Vec<(Expr, Option<Expr>)>,
    ranges: Vec<(Expr, Expr, Option<Expr>)>,
    /// OR of each definition's dependencies; `Some(None)` once a definition has none.
    dir_dep: Option<Option<Expr>>,
    rev_dep: Option<Expr>,
    implied: Option<Expr>,
    /// The choice this symbol is a value of.
    choice: Option<usize>,
    /// `option defconfig_list`: never written (conf's SYMBOL_NO_WRITE).
    no_write: bool,
    /// `option allnoconfig_y`: y even in allnoconfig.
    allnoconfig_y: bool,
    /// This symbol is a choice (index into `choices`).
    is_choice: Option<usize>,
    user: Option<String>,
    // computed
    state: u8,
    tri: Tri,
    val: String,
    visible: Tri,
    write: bool,
}

#[derive(Debug, Clone, Default)]
struct Choice {
    sym: usize,
    optional: bool,
    values: Vec<usize>,
    /// The value picked when the choice is y.
    selected: Option<usize>,
}

/// A node of the menu tree, for writing `.config` in conf's order.
#[derive(Debug, Clone)]
enum MNode {
    Sym(usize),
    /// A menu or comment: its prompt and visibility (None: always visible).
    Menu {
        prompt: String,
        visible: Option<Expr>,
        children: Vec<MNode>,
    },
    /// An `if` block or a choice: no heading of its own.
    Group(Vec<MNode>),
}

/// A Kconfig tree ready to evaluate.
#[derive(Clone)]
pub struct Kconfig {
    syms: Vec<Sym>,
    by_name: HashMap<String, usize>,
    choices: Vec<Choice>,
    menu: Vec<MNode>,
    mainmenu: String,
    modules: Option<usize>,
    /// Notes like conf's warnings (unmet dependencies, bad user values).
    pub warnings: Vec<String>,
}

impl Kconfig {
    /// Build the symbol table and menu tree from a parse.
    pub fn new(parsed: &Parsed) -> Kconfig {
        let mut k = Kconfig {
            syms: Vec::new(),
            by_name: HashMap::new(),
            choices: Vec::new(),
            menu: Vec::new(),
            mainmenu: "Main menu".into(),
            modules: None,
            warnings: Vec::new(),
        };
        let nodes = parsed.nodes.clone();
        k.menu = k.walk(&nodes, None, None, None);
        k
    }

    fn sym(&mut self, name: &str) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        let i = self.syms.len();
        self.syms.push(Sym {
            name: name.to_string(),
            ..Default::default()
        });
        self.by_name.insert(name.to_string(), i);
        i
    }

    fn define(
        &mut self,
        e: &ConfigEntry,
        dep: &Option<Expr>,
        vis: &Option<Expr>,
        choice: Option<usize>,
    ) -> usize {
        let i = if e.name.is_empty() {
            // an anonymous choice
            let i = self.syms.len();
            self.syms.push(Sym {
                name: String::new(),
                ..Default::default()
            });
            i
        } else {
            self.sym(&e.name)
        };
        if self.syms[i].typ.is_none() {
            self.syms[i].typ = e.typ;
        }
        if e.modules {
            self.modules = Some(i);
        }
        if e.defconfig_list {
            self.syms[i].no_write = true;
        }
        if e.allnoconfig_y {
            self.syms[i].allnoconfig_y = true;
        }
        let mut entry_dep: Option<Expr> = None;
        for d in &e.depends {
            entry_dep = and(entry_dep, Some(d.clone()));
        }
        let full = and(dep.clone(), entry_dep);
        let s = &mut self.syms[i];
        s.dir_dep = Some(match (s.dir_dep.take(), &full) {
            (None, f) => f.clone(),
            (Some(None), _) | (Some(Some(_)), None) => None,
            (Some(Some(old)), Some(f)) => Some(Expr::Or(Box::new(old), Box::new(f.clone()))),
        });
        if choice.is_some() {
            s.choice = choice;
        }
        let me = Expr::Sym(e.name.clone());
        for p in &e.props {
            let cond = and(full.clone(), p.cond.clone());
            match &p.kind {
                PropKind::Prompt(_) => {
                    let v = and(cond, vis.clone());
                    self.syms[i].prompts.push(v);
                }
                PropKind::Default(v) => self.syms[i].defaults.push((v.clone(), cond)),
                PropKind::Range(lo, hi) => self.syms[i].ranges.push((lo.clone(), hi.clone(), cond)),
                PropKind::Select(t) => {
                    let j = self.sym(t);
                    let term = match cond {
                        Some(c) => Expr::And(Box::new(me.clone()), Box::new(c)),
                        None => me.clone(),
                    };
                    self.syms[j].rev_dep = or(self.syms[j].rev_dep.take(), term);
                }
                PropKind::Imply(t) => {
                    let j = self.sym(t);
                    let term = match cond {
                        Some(c) => Expr::And(Box::new(me.clone()), Box::new(c)),
                        None => me.clone(),
                    };
                    self.syms[j].implied = or(self.syms[j].implied.take(), term);
                }
            }
        }
        i
    }

    fn walk(
        &mut self,
        nodes: &[Node],
        dep: Option<Expr>,
        vis: Option<Expr>,
        choice: Option<usize>,
    ) -> Vec<MNode> {
        let mut out = Vec::new();
        for n in nodes {
            match n {
                Node::MainMenu { prompt, .. } => self.mainmenu = prompt.clone(),
                Node::Config(e) => {
                    let i = self.define(e, &dep, &vis, choice);
                    out.push(MNode::Sym(i));
                }
                Node::Choice {
                    entry,
                    optional,
                    children,
                } => {
                    let c = self.choices.len();
                    self.choices.push(Choice::default());
                    let i = self.define(entry, &dep, &vis, None);
                    self.syms[i].is_choice = Some(c);
                    self.choices[c].sym = i;
                    self.choices[c].optional = *optional;
                    // a choice that is not optional is as set as its prompt is visible
                    if !*optional {
                        let mut v: Option<Expr> = None;
                        for p in self.syms[i].prompts.clone() {
                            v = match (v, p) {
                                (Some(a), Some(b)) => Some(Expr::Or(Box::new(a), Box::new(b))),
                                _ => Some(Expr::Sym("y".into())),
                            };
                        }
                        if let Some(v) = v {
                            self.syms[i].rev_dep = or(self.syms[i].rev_dep.take(), v);
                        }
                    }
                    let mut entry_dep = dep.clone();
                    for d in &entry.depends {
                        entry_dep = and(entry_dep, Some(d.clone()));
                    }
                    let kids = self.walk(children, entry_dep, vis.clone(), Some(c));
                    let values: Vec<usize> = kids
                        .iter()
                        .filter_map(|k| {
                            if let MNode::Sym(s) = k {
                                Some(*s)
                            } else {
                                None
                            }
                        })
                        .collect();
                    // value and choice types fill each other in
                    let ctype = self.syms[i]
                        .typ
                        .or_else(|| values.first().and_then(|&v| self.syms[v].typ));
                    self.syms[i].typ = ctype.or(Some(Type::Bool));
                    for &v in &values {
                        if self.syms[v].typ.is_none() {
                            self.syms[v].typ = self.syms[i].typ;
                        }
                    }
                    self.choices[c].values = values;
                    out.push(MNode::Group(kids));
                }
                Node::Menu {
                    prompt,
                    depends,
                    visible,
                    children,
                    ..
                } => {
                    let mut d = dep.clone();
                    for x in depends {
                        d = and(d, Some(x.clone()));
                    }
                    let mut v = vis.clone();
                    for x in visible {
                        v = and(v, Some(x.clone()));
                    }
                    let kids = self.walk(children, d.clone(), v, choice);
                    // a menu's heading shows when its dependencies and its own
                    // `visible if` hold (conf's menu_is_visible)
                    let mut heading = d;
                    for x in visible {
                        heading = and(heading, Some(x.clone()));
                    }
                    out.push(MNode::Menu {
                        prompt: prompt.clone(),
                        visible: heading,
                        children: kids,
                    });
                }
                Node::Comment {
                    prompt, depends, ..
                } => {
                    let mut d = dep.clone();
                    for x in depends {
                        d = and(d, Some(x.clone()));
                    }
                    out.push(MNode::Menu {
                        prompt: prompt.clone(),
                        visible: d,
                        children: Vec::new(),
                    });
                }
                Node::If { cond, children, .. } => {
                    let d = and(dep.clone(), Some(cond.clone()));
                    let kids = self.walk(children, d, vis.clone(), choice);
                    out.push(MNode::Group(kids));
                }
            }
        }
        out
    }

    /// Set a user value (`CONFIG_` prefix already removed), as from a defconfig
    /// or an overlay. `n` means "is not set".
    pub fn set_user(&mut self, name: &str, value: &str) {
        for s in &mut self.syms {
            s.state = 0;
        }
        match self.by_name.get(name) {
            Some(&i) if self.syms[i].typ.is_some() => {
                let s = &mut self.syms[i];
                let ok = match s.typ {
                    Some(Type::Bool) => matches!(value, "y" | "n"),
                    Some(Type::Tristate) => matches!(value, "y" | "m" | "n"),
                    Some(Type::Int) => value.parse::<i64>().is_ok() || value.is_empty(),
                    Some(Type::Hex) => {
                        let h = value.trim_start_matches("0x").trim_start_matches("0X");
                        !h.is_empty() && u64::from_str_radix(h, 16).is_ok()
                    }
                    _ => true,
                };
                if ok {
                    s.user = Some(value.to_string());
                    if let Some(c) = s.choice {
                        // a value set to y sets its choice, as conf_read does
                        if value == "y" {
                            self.choices[c].selected = Some(i);
                            let cs = self.choices[c].sym;
                            self.syms[cs].user = Some("y".into());
                        }
                    }
                } else {
                    self.warnings
                        .push(format!("symbol value '{value}' invalid for {name}"));
                }
            }
            _ => self.warnings.push(format!("unknown symbol {name}")),
        }
    }

    /// conf's `--allnoconfig` (N), `--allmodconfig` (M) and `--allyesconfig` (Y):
    /// every bool and tristate without a value gets this one (symbols with
    /// `option allnoconfig_y` get y in allnoconfig); choices then pick their
    /// default, as conf_set_all_new_symbols does.
    pub fn set_all(&mut self, mode: Tri) {
        for s in &mut self.syms {
            s.state = 0;
            if s.user.is_some() || !matches!(s.typ, Some(Type::Bool) | Some(Type::Tristate)) {
                continue;
            }
            let t = if mode == Tri::N && s.allnoconfig_y {
                Tri::Y
            } else {
                mode
            };
            s.user = Some(t.letter().to_string());
        }
    }

    /// Read `.config`/defconfig text: `CONFIG_X=v` and `# CONFIG_X is not set`.
    pub fn read_config(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim_end();
            if let Some(rest) = line.strip_prefix("# CONFIG_") {
                if let Some(name) = rest.strip_suffix(" is not set") {
                    self.set_user(name, "n");
                }
                continue;
            }
            let Some(rest) = line.strip_prefix("CONFIG_") else {
                continue;
            };
            let Some((name, v)) = rest.split_once('=') else {
                continue;
            };
            let v = if v.starts_with('"') && v.ends_with('"') && v.len() >= 2 {
                let inner = &v[1..v.len() - 1];
                let mut s = String::new();
                let mut it = inner.chars();
                while let Some(c) = it.next() {
                    if c == '\\' {
                        if let Some(n) = it.next() {
                            s.push(n);
                        }
                    } else {
                        s.push(c);
                    }
                }
                s
            } else {
                v.to_string()
            };
            self.set_user(name, &v);
        }
        // conf_read: a number out of its range is dropped, as if never set
        self.evaluate();
        let mut dropped = false;
        for i in 0..self.syms.len() {
            let Some(u) = self.syms[i].user.clone() else {
                continue;
            };
            if !matches!(self.syms[i].typ, Some(Type::Int) | Some(Type::Hex)) {
                continue;
            }
            if !self.within_range(i, &u) {
                self.syms[i].user = None;
                dropped = true;
            }
        }
        if dropped {
            for s in &mut self.syms {
                s.state = 0;
            }
        }
    }

    fn within_range(&mut self, i: usize, val: &str) -> bool {
        let base = if self.syms[i].typ == Some(Type::Hex) {
            16
        } else {
            10
        };
        for (lo, hi, c) in self.syms[i].ranges.clone() {
            if self.eval_opt(&c, Tri::Y) != Tri::N {
                let v = strtoll(val, base);
                let lo_v = strtoll(&self.value_of(&lo).1, base);
                let hi_v = strtoll(&self.value_of(&hi).1, base);
                return v >= lo_v && v <= hi_v;
            }
        }
        true
    }

    fn modules_on(&mut self) -> bool {
        match self.modules {
            Some(m) => self.calc(m).0 == Tri::Y,
            None => false,
        }
    }

    fn eff_type(&mut self, i: usize) -> Option<Type> {
        let t = self.syms[i].typ;
        if t == Some(Type::Tristate) && (self.syms[i].choice.is_some() || !self.modules_on()) {
            return Some(Type::Bool);
        }
        t
    }

    fn word(&mut self, w: &str) -> (Tri, String, Option<Type>) {
        match w {
            "y" => return (Tri::Y, "y".into(), Some(Type::Tristate)),
            "m" => return (Tri::M, "m".into(), Some(Type::Tristate)),
            "n" => return (Tri::N, "n".into(), Some(Type::Tristate)),
            _ => {}
        }
        match self.by_name.get(w).copied() {
            Some(i) if self.syms[i].typ.is_some() => {
                let (t, v) = self.calc(i);
                (t, v, self.syms[i].typ)
            }
            _ => (Tri::N, w.to_string(), None),
        }
    }

    fn value_of(&mut self, e: &Expr) -> (Tri, String, Option<Type>) {
        match e {
            Expr::Sym(w) => self.word(w),
            Expr::Str(s) => (Tri::N, s.clone(), Some(Type::String)),
            other => {
                let t = self.eval(other);
                (t, t.letter().into(), Some(Type::Tristate))
            }
        }
    }

    /// conf's `expr_calc_value`.
    fn eval(&mut self, e: &Expr) -> Tri {
        match e {
            Expr::Sym(_) | Expr::Str(_) => self.value_of(e).0,
            Expr::Not(a) => self.eval(a).not(),
            Expr::And(a, b) => {
                let x = self.eval(a);
                x.and(self.eval(b))
            }
            Expr::Or(a, b) => {
                let x = self.eval(a);
                x.or(self.eval(b))
            }
            Expr::Cmp(op, a, b) => {
                let (_, s1, t1) = self.value_of(a);
                let (_, s2, t2) = self.value_of(b);
                let res = compare(&s1, t1, &s2, t2);
                let r = match op {
                    CmpOp::Eq => res == 0,
                    CmpOp::Ne => res != 0,
                    CmpOp::Lt => res < 0,
                    CmpOp::Le => res <= 0,
                    CmpOp::Gt => res > 0,
                    CmpOp::Ge => res >= 0,
                };
                if r {
                    Tri::Y
                } else {
                    Tri::N
                }
            }
        }
    }

    fn eval_opt(&mut self, e: &Option<Expr>, none: Tri) -> Tri {
        match e {
            None => none,
            Some(e) => {
                let e = e.clone();
                self.eval(&e)
            }
        }
    }

    fn bool_fold(&mut self, i: usize, t: Tri) -> Tri {
        if t == Tri::M && self.eff_type(i) == Some(Type::Bool) {
            Tri::Y
        } else {
            t
        }
    }

    /// conf's `sym_calc_value`: (tristate, string value). Memoised; a recursive
    /// reference sees the value so far, as in conf.
    fn calc(&mut self, i: usize) -> (Tri, String) {
        if self.syms[i].state != 0 {
            return (self.syms[i].tri, self.syms[i].val.clone());
        }
        self.syms[i].state = 1;
        let typ = self.syms[i].typ;
        // visibility
        let mut vis = Tri::N;
        for p in self.syms[i].prompts.clone() {
            vis = vis.or(self.eval_opt(&p, Tri::Y));
        }
        if vis == Tri::M && (typ != Some(Type::Tristate) || !self.modules_on()) {
            vis = Tri::Y;
        }
        let is_choice_value = self.syms[i].choice.is_some();
        if let Some(c) = self.syms[i].choice {
            // a value is visible only as far as its choice is
            let cs = self.choices[c].sym;
            let (ct, _) = self.calc(cs);
            vis = vis.and(if ct == Tri::N { Tri::N } else { Tri::Y });
        }
        self.syms[i].visible = vis;
        let dir_dep = match self.syms[i].dir_dep.clone() {
            Some(Some(e)) => {
                let t = self.eval(&e);
                self.bool_fold(i, t)
            }
            _ => Tri::Y,
        };
        let rev = self.syms[i].rev_dep.clone();
        let rev_dep = {
            let t = self.eval_opt(&rev, Tri::N);
            self.bool_fold(i, t)
        };
        let imp = self.syms[i].implied.clone();
        let implied = {
            let t = self.eval_opt(&imp, Tri::N);
            self.bool_fold(i, t)
        };
        let mut write = vis != Tri::N;
        let mut tri = Tri::N;
        let mut val = String::new();
        match typ {
            Some(Type::Bool) | Some(Type::Tristate) => {
                if is_choice_value && vis == Tri::Y {
                    let c = self.syms[i].choice.unwrap_or(0);
                    let sel = self.choice_selected(c);
                    tri = if sel == Some(i) { Tri::Y } else { Tri::N };
                } else {
                    let user = self.syms[i].user.clone();
                    let mut done = false;
                    if vis != Tri::N {
                        if let Some(u) = user {
                            tri = letter(&u).and(vis);
                            done = true;
                        }
                    }
                    if !done {
                        if rev_dep != Tri::N {
                            write = true;
                        }
                        if self.syms[i].is_choice.is_none() {
                            if let Some((v, c)) = self.default_prop(i) {
                                tri = self.eval(&v).and(c);
                                if tri != Tri::N {
                                    write = true;
                                }
                            }
                            if implied != Tri::N {
                                write = true;
                                tri = tri.or(implied);
                            }
                        }
                    }
                    if dir_dep < rev_dep {
                        self.warnings.push(format!(
                            "unmet direct dependencies for {}",
                            self.syms[i].name
                        ));
                    }
                    tri = tri.or(rev_dep);
                }
                if tri == Tri::M && (self.eff_type(i) == Some(Type::Bool) || implied == Tri::Y) {
                    tri = Tri::Y;
                }
                val = tri.letter().to_string();
            }
            Some(Type::Int) | Some(Type::Hex) | Some(Type::String) => {
                let user = self.syms[i].user.clone();
                match user {
                    Some(u) if vis != Tri::N => val = u,
                    _ => {
                        if let Some((v, _)) = self.default_prop(i) {
                            write = true;
                            val = self.value_of(&v).1;
                        }
                    }
                }
                val = self.validate_range(i, val);
            }
            None => {
                val = self.syms[i].name.clone();
            }
        }
        if self.syms[i].is_choice.is_some() || self.syms[i].no_write {
            write = false;
        }
        let s = &mut self.syms[i];
        s.tri = tri;
        s.val = val.clone();
        s.write = write;
        s.state = 2;
        (tri, val)
    }

    fn default_prop(&mut self, i: usize) -> Option<(Expr, Tri)> {
        for (v, c) in self.syms[i].defaults.clone() {
            let t = self.eval_opt(&c, Tri::Y);
            if t != Tri::N {
                return Some((v, t));
            }
        }
        None
    }

    fn validate_range(&mut self, i: usize, val: String) -> String {
        let base = match self.syms[i].typ {
            Some(Type::Int) => 10,
            Some(Type::Hex) => 16,
            _ => return val,
        };
        let mut range = None;
        for (lo, hi, c) in self.syms[i].ranges.clone() {
            if self.eval_opt(&c, Tri::Y) != Tri::N {
                range = Some((lo, hi));
                break;
            }
        }
        let Some((lo, hi)) = range else { return val };
        let v = strtoll(&val, base);
        let lo_v = strtoll(&self.value_of(&lo).1, base);
        let hi_v = strtoll(&self.value_of(&hi).1, base);
        if v >= lo_v && v <= hi_v && !val.is_empty() {
            return val;
        }
        let pick = if v >= lo_v { hi_v } else { lo_v };
        if base == 16 {
            format!("0x{pick:x}")
        } else {
            pick.to_string()
        }
    }

    fn choice_selected(&mut self, c: usize) -> Option<usize> {
        let cs = self.choices[c].sym;
        let (ct, _) = self.calc(cs);
        if ct == Tri::N {
            return None;
        }
        // value visibilities (their prompts only: the choice is y)
        let values = self.choices[c].values.clone();
        let mut visible = Vec::new();
        for &v in &values {
            let mut vis = Tri::N;
            for p in self.syms[v].prompts.clone() {
                vis = vis.or(self.eval_opt(&p, Tri::Y));
            }
            visible.push(vis != Tri::N);
        }
        if let Some(sel) = self.choices[c].selected {
            if let Some(k) = values.iter().position(|&v| v == sel) {
                if visible[k] {
                    return Some(sel);
                }
            }
        }
        for (v, cond) in self.syms[cs].defaults.clone() {
            if self.eval_opt(&cond, Tri::Y) == Tri::N {
                continue;
            }
            if let Expr::Sym(name) = &v {
                if let Some(k) = values.iter().position(|&x| self.syms[x].name == *name) {
                    if visible[k] {
                        return Some(values[k]);
                    }
                }
            }
        }
        values
            .iter()
            .zip(&visible)
            .find(|(_, &vis)| vis)
            .map(|(&v, _)| v)
    }

    /// Evaluate everything.
    pub fn evaluate(&mut self) {
        for i in 0..self.syms.len() {
            self.calc(i);
        }
    }

    fn menu_visible(&mut self, v: &Option<Expr>) -> bool {
        self.eval_opt(v, Tri::Y) != Tri::N
    }

    /// The `.config` text, as conf writes it.
    pub fn config_text(&mut self) -> String {
        self.evaluate();
        let mut out = format!(
            "#\n# Automatically generated file; DO NOT EDIT.\n# {}\n#\n",
            self.mainmenu
        );
        let mut written = vec![false; self.syms.len()];
        let mut need_newline = false;
        let menu = self.menu.clone();
        self.write_nodes(&menu, &mut out, &mut written, &mut need_newline);
        out
    }

    fn write_nodes(
        &mut self,
        nodes: &[MNode],
        out: &mut String,
        written: &mut [bool],
        need_newline: &mut bool,
    ) {
        for n in nodes {
            match n {
                MNode::Sym(i) => {
                    let i = *i;
                    if written[i] || !self.syms[i].write || self.syms[i].is_choice.is_some() {
                        continue;
                    }
                    if *need_newline {
                        out.push('\n');
                        *need_newline = false;
                    }
                    written[i] = true;
                    out.push_str(&self.config_line(i));
                }
                MNode::Group(kids) => self.write_nodes(kids, out, written, need_newline),
                MNode::Menu {
                    prompt,
                    visible,
                    children,
                } => {
                    let vis = self.menu_visible(visible);
                    if vis {
                        out.push_str(&format!("\n#\n# {prompt}\n#\n"));
                        *need_newline = false;
                    }
                    self.write_nodes(children, out, written, need_newline);
                    if vis && !children.is_empty() {
                        out.push_str(&format!("# end of {prompt}\n"));
                        *need_newline = true;
                    }
                }
            }
        }
    }

    fn config_line(&self, i: usize) -> String {
        let s = &self.syms[i];
        match s.typ {
            Some(Type::Bool) | Some(Type::Tristate) => {
                if s.tri == Tri::N {
                    format!("# CONFIG_{} is not set\n", s.name)
                } else {
                    format!("CONFIG_{}={}\n", s.name, s.tri.letter())
                }
            }
            Some(Type::String) => format!("CONFIG_{}=\"{}\"\n", s.name, escape(&s.val)),
            _ => format!("CONFIG_{}={}\n", s.name, s.val),
        }
    }

    /// The `autoconf.h` text, as conf writes it.
    pub fn autoconf_text(&mut self) -> String {
        self.evaluate();
        let mut out = format!(
            "/*\n * Automatically generated file; DO NOT EDIT.\n * {}\n */\n",
            self.mainmenu
        );
        // conf walks its symbol hash table: buckets of the FNV-1a hash of the
        // name modulo 9973, newest symbol first within a bucket
        let mut order: Vec<usize> = (0..self.syms.len()).collect();
        order.sort_by_key(|&i| (conf_bucket(&self.syms[i].name), std::cmp::Reverse(i)));
        let mut seen = vec![false; self.syms.len()];
        for i in order {
            if seen[i] {
                continue;
            }
            seen[i] = true;
            let s = &self.syms[i];
            if !s.write || s.is_choice.is_some() {
                continue;
            }
            match s.typ {
                Some(Type::Bool) | Some(Type::Tristate) => match s.tri {
                    Tri::Y => out.push_str(&format!("#define CONFIG_{} 1\n", s.name)),
                    Tri::M => out.push_str(&format!("#define CONFIG_{}_MODULE 1\n", s.name)),
                    Tri::N => {}
                },
                Some(Type::Hex) => {
                    let v = if s.val.starts_with("0x") || s.val.starts_with("0X") {
                        s.val.clone()
                    } else {
                        format!("0x{}", s.val)
                    };
                    out.push_str(&format!("#define CONFIG_{} {}\n", s.name, v));
                }
                Some(Type::String) => out.push_str(&format!(
                    "#define CONFIG_{} \"{}\"\n",
                    s.name,
                    escape(&s.val)
                )),
                _ => out.push_str(&format!("#define CONFIG_{} {}\n", s.name, s.val)),
            }
        }
        out
    }

    /// For each assignment of an overlay fragment (`CONFIG_X=v`, `# CONFIG_X is
    /// not set`), the value it asked for and the value the symbol got, when they
    /// differ: the overlay did not take effect (its dependencies fail, or the
    /// symbol has no visible prompt). None stands for "not written".
    pub fn overlay_misses(&mut self, overlay: &str) -> Vec<(String, String, Option<String>)> {
        let values = self.symbols();
        let mut out = Vec::new();
        for line in overlay.lines() {
            let line = line.trim_end();
            let (name, want) = if let Some(n) = line
                .strip_prefix("# CONFIG_")
                .and_then(|r| r.strip_suffix(" is not set"))
            {
                (n.to_string(), "n".to_string())
            } else if let Some((n, v)) =
                line.strip_prefix("CONFIG_").and_then(|r| r.split_once('='))
            {
                (n.to_string(), v.trim_matches('"').to_string())
            } else {
                continue;
            };
            let got = values.get(&name).cloned().flatten();
            let same = match got.as_deref() {
                Some(g) => g == want,
                None => want == "n",
            };
            if !same {
                out.push((name, want, got));
            }
        }
        out
    }

    /// Every defined symbol's value, or None when it is not written.
    pub fn symbols(&mut self) -> BTreeMap<String, Option<String>> {
        self.evaluate();
        self.syms
            .iter()
            .filter(|s| s.typ.is_some() && s.is_choice.is_none() && !s.name.is_empty())
            .map(|s| (s.name.clone(), s.write.then(|| s.val.clone())))
            .collect()
    }
}

/// conf's `strhash(name) % SYMBOL_HASHSIZE` (32-bit FNV-1a, 9973 buckets).
fn conf_bucket(name: &str) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for &b in name.as_bytes() {
        h = (u32::from(b) ^ h).wrapping_mul(0x0100_0193);
    }
    h % 9973
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn letter(s: &str) -> Tri {
    match s {
        "y" => Tri::Y,
        "m" => Tri::M,
        _ => Tri::N,
    }
}

/// `strtoll(s, NULL, base)`: leading digits, 0 when there are none.
fn strtoll(s: &str, base: u32) -> i64 {
    let t = s.trim_start();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let t = if base == 16 {
        t.strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t)
    } else {
        t
    };
    let digits: String = t.chars().take_while(|c| c.is_digit(base)).collect();
    let v =
        i64::from_str_radix(&digits, base).unwrap_or(if digits.is_empty() { 0 } else { i64::MAX });
    if neg {
        -v
    } else {
        v
    }
}

/// conf's comparison: numbers compare as numbers when both sides parse as their
/// type, otherwise as strings.
fn compare(s1: &str, t1: Option<Type>, s2: &str, t2: Option<Type>) -> i32 {
    fn parse(s: &str, t: Option<Type>) -> Option<i128> {
        match t {
            Some(Type::Bool) | Some(Type::Tristate) => match s {
                "n" => Some(0),
                "m" => Some(1),
                "y" => Some(2),
                _ => None,
            },
            Some(Type::Int) => s.parse::<i64>().ok().map(i128::from),
            Some(Type::Hex) => {
                let h = s.trim_start_matches("0x").trim_start_matches("0X");
                u64::from_str_radix(h, 16).ok().map(i128::from)
            }
            Some(Type::String) => None,
            None => {
                if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                    u64::from_str_radix(h, 16).ok().map(i128::from)
                } else if s.len() > 1 && s.starts_with('0') {
                    i64::from_str_radix(&s[1..], 8).ok().map(i128::from)
                } else {
                    s.parse::<i64>().ok().map(i128::from)
                }
            }
        }
    }
    let both_string = t1 == Some(Type::String) && t2 == Some(Type::String);
    match (both_string, parse(s1, t1), parse(s2, t2)) {
        (false, Some(a), Some(b)) => (a > b) as i32 - (a < b) as i32,
        _ => match s1.cmp(s2) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        },
    }
}
