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

use super::parse::{CmpOp, ConfigEntry, Dialect, Expr, Node, Parsed, PropKind, Type};

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
    /// An int/hex whose value comes only from its range: neither a user value
    /// nor a default applied, and the empty value was moved to a bound.
    range_only: bool,
    /// The reverse dependency's value (`select`), from the last calculation.
    rev_tri: Tri,
    /// What this symbol selects and implies (for the help text).
    selects: Vec<String>,
    implies: Vec<String>,
    /// The properties conf checks for recursive dependencies, in conf's order
    /// (per definition: the entry itself, then its prompt, defaults, ranges).
    checks: Vec<CheckProp>,
    /// conf's SYMBOL_DEF_USER set without a value of ours (a choice value made
    /// "not new" by its choice, a promptless parent of visible children).
    has_value_flag: bool,
}

/// A property as conf's `sym_check_deps` sees it.
#[derive(Debug, Clone)]
struct CheckProp {
    /// `symbol` (the definition), `prompt`, `default`, `range`.
    kind: &'static str,
    loc: String,
    visible: Option<Expr>,
    /// A default's value.
    value: Option<Expr>,
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
    /// The menu tree after conf's `menu_finalize` (index 0 is the root).
    cmenus: Vec<CMenu>,
    /// Whether the configuration differs from what was read (conf_get_changed).
    changed: bool,
    /// The dialect of the tree (a range bound's text differs).
    dialect: Dialect,
    /// The parsed config and choice entries the menu tree refers to (only
    /// while the tree is built).
    entries: Vec<ConfigEntry>,
    /// Symbols conf has already checked in `menu_finalize` (SYMBOL_WARNED).
    warned: Vec<bool>,
    /// Symbols selected past their direct dependencies, in the order found.
    unmet: Vec<usize>,
    /// conf's warnings from `menu_finalize` (entries without a type, choice
    /// values with defaults, selects of non-bool symbols, ...), in conf's order.
    pub menu_warnings: Vec<String>,
}

/// A node of conf's menu tree after `menu_finalize`: if blocks and promptless
/// symbols flattened, and the entries that depend on a symbol right after it
/// moved below it (the automatic submenus conf's prompts are indented by).
#[derive(Debug, Clone, Default)]
pub(crate) struct CMenu {
    pub sym: Option<usize>,
    pub prompt: Option<String>,
    /// `menu`, `menuconfig` (or the root): P_MENU.
    pub is_menu: bool,
    /// The prompt's visibility (`prompt->visible.expr`); None: always.
    pub prompt_vis: Option<Expr>,
    /// `visible if` of a menu.
    pub visibility: Option<Expr>,
    /// The entry's dependencies, with its parents'.
    pub dep: Option<Expr>,
    pub help: Option<String>,
    pub list: Vec<usize>,
    pub parent: usize,
    /// Where the entry was written (`file:line`).
    pub loc: String,
    /// The parsed entry (index into `Kconfig::entries`), for conf's warnings.
    pub entry: Option<usize>,
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
            cmenus: Vec::new(),
            changed: false,
            dialect: parsed.dialect,
            entries: Vec::new(),
            warned: Vec::new(),
            unmet: Vec::new(),
            menu_warnings: Vec::new(),
        };
        let nodes = parsed.nodes.clone();
        k.menu = k.walk(&nodes, None, None, None);
        k.cmenus.push(CMenu {
            prompt: Some(k.mainmenu.clone()),
            is_menu: true,
            ..Default::default()
        });
        let mut choice_no = 0;
        k.build_cmenus(&nodes, 0, None, None, &mut choice_no);
        k.warned = vec![false; k.syms.len()];
        k.finalize(0);
        k.entries = Vec::new();
        k
    }

    /// conf's menu tree, as the parser builds it (before `menu_finalize`).
    fn build_cmenus(
        &mut self,
        nodes: &[Node],
        parent: usize,
        dep: Option<Expr>,
        vis: Option<Expr>,
        choice_no: &mut usize,
    ) {
        for n in nodes {
            let idx = self.cmenus.len();
            match n {
                Node::MainMenu { .. } => continue,
                Node::Config(e) => {
                    let Some(&sym) = self.by_name.get(&e.name) else {
                        continue;
                    };
                    let mut full = dep.clone();
                    for d in &e.depends {
                        full = and(full, Some(d.clone()));
                    }
                    let (prompt, prompt_vis) = entry_prompt(e, &full, &vis);
                    self.entries.push(e.clone());
                    self.cmenus.push(CMenu {
                        entry: Some(self.entries.len() - 1),
                        loc: e.loc.as_ref().map(|l| l.to_string()).unwrap_or_default(),
                        // a menuconfig's prompt is a menu prompt (P_MENU)
                        is_menu: e.menuconfig && prompt.is_some(),
                        sym: Some(sym),
                        prompt,
                        prompt_vis,
                        dep: full,
                        help: e.help.clone(),
                        parent,
                        ..Default::default()
                    });
                }
                Node::Choice {
                    entry, children, ..
                } => {
                    let c = *choice_no;
                    *choice_no += 1;
                    let sym = self.choices.get(c).map(|ch| ch.sym);
                    let mut full = dep.clone();
                    for d in &entry.depends {
                        full = and(full, Some(d.clone()));
                    }
                    let (prompt, prompt_vis) = entry_prompt(entry, &full, &vis);
                    self.entries.push(entry.clone());
                    self.cmenus.push(CMenu {
                        entry: Some(self.entries.len() - 1),
                        loc: entry
                            .loc
                            .as_ref()
                            .map(|l| l.to_string())
                            .unwrap_or_default(),
                        sym,
                        prompt,
                        prompt_vis,
                        dep: full.clone(),
                        help: entry.help.clone(),
                        parent,
                        ..Default::default()
                    });
                    self.build_cmenus(children, idx, full, vis.clone(), choice_no);
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
                    let mut visibility: Option<Expr> = None;
                    for x in visible {
                        visibility = and(visibility, Some(x.clone()));
                    }
                    self.cmenus.push(CMenu {
                        prompt: Some(prompt.clone()),
                        is_menu: true,
                        prompt_vis: d.clone(),
                        visibility: visibility.clone(),
                        dep: d.clone(),
                        parent,
                        ..Default::default()
                    });
                    let v = and(vis.clone(), visibility);
                    self.build_cmenus(children, idx, d, v, choice_no);
                }
                Node::Comment {
                    prompt, depends, ..
                } => {
                    let mut d = dep.clone();
                    for x in depends {
                        d = and(d, Some(x.clone()));
                    }
                    self.cmenus.push(CMenu {
                        prompt: Some(prompt.clone()),
                        prompt_vis: d.clone(),
                        dep: d,
                        parent,
                        ..Default::default()
                    });
                }
                Node::If { cond, children, .. } => {
                    let d = and(dep.clone(), Some(cond.clone()));
                    self.cmenus.push(CMenu {
                        dep: d.clone(),
                        parent,
                        ..Default::default()
                    });
                    self.build_cmenus(children, idx, d, vis.clone(), choice_no);
                }
            }
            self.cmenus[parent].list.push(idx);
        }
    }

    /// The restructuring part of conf's `menu_finalize`.
    fn finalize(&mut self, m: usize) {
        let mut list = std::mem::take(&mut self.cmenus[m].list);
        let mut k = 0;
        while k < list.len() {
            self.finalize_at(&mut list, k);
            k += 1;
        }
        self.cmenus[m].list = self.flatten(m, list);
        self.finalize_warnings(m);
    }

    /// The warnings conf's `menu_finalize` gives at the end of an entry: for a
    /// choice, about its values; then, once per symbol, `sym_check_prop`'s.
    fn finalize_warnings(&mut self, m: usize) {
        let Some(sym) = self.cmenus[m].sym else {
            return;
        };
        if let Some(c) = self.syms[sym].is_choice {
            for child in self.cmenus[m].list.clone() {
                let Some(v) = self.cmenus[child].sym else {
                    continue;
                };
                if !self.choices[c].values.contains(&v) {
                    continue;
                }
                if self.cmenus[child].prompt.is_none() {
                    let loc = self.cmenus[child].loc.clone();
                    self.menu_warnings
                        .push(format!("{loc}:warning: choice value must have a prompt"));
                }
                for e in self.entries_of(v) {
                    for p in &e.props {
                        if matches!(p.kind, PropKind::Default(_)) {
                            self.menu_warnings.push(format!(
                                "{}:warning: defaults for choice values not supported",
                                p.loc
                            ));
                        }
                    }
                }
            }
        }
        if self.warned.get(sym).copied().unwrap_or(true) {
            return;
        }
        self.warned[sym] = true;
        let loc = self.cmenus[m].loc.clone();
        if self.syms[sym].typ.is_none() {
            self.menu_warnings
                .push(format!("{loc}:warning: config symbol defined without type"));
        }
        if self.syms[sym].is_choice.is_some() && self.cmenus[m].prompt.is_none() {
            self.menu_warnings
                .push(format!("{loc}:warning: choice must have a prompt"));
        }
        let typ = self.syms[sym].typ;
        let name = self.syms[sym].name.clone();
        for e in self.entries_of(sym) {
            for p in &e.props {
                let (target, what) = match &p.kind {
                    PropKind::Select(t) => (t, "select"),
                    PropKind::Imply(t) => (t, "imply"),
                    PropKind::Range(lo, hi) => {
                        if !matches!(typ, Some(Type::Int) | Some(Type::Hex)) {
                            self.menu_warnings.push(format!(
                                "{}:warning: range is only allowed for int or hex symbols",
                                p.loc
                            ));
                        }
                        if !self.valid_number(sym, lo) || !self.valid_number(sym, hi) {
                            self.menu_warnings
                                .push(format!("{}:warning: range is invalid", p.loc));
                        }
                        continue;
                    }
                    PropKind::Default(Expr::Sym(w))
                        if matches!(typ, Some(Type::Int) | Some(Type::Hex))
                            && !self.valid_number(sym, &Expr::Sym(w.clone())) =>
                    {
                        self.menu_warnings
                            .push(format!("{}:warning: '{name}': number is invalid", p.loc));
                        continue;
                    }
                    _ => continue,
                };
                if !matches!(typ, Some(Type::Bool) | Some(Type::Tristate)) {
                    self.menu_warnings.push(format!(
                        "{}:warning: config symbol '{name}' uses {what}, but is not bool or tristate",
                        p.loc
                    ));
                } else if let Some(&j) = self.by_name.get(target) {
                    if matches!(
                        self.syms[j].typ,
                        Some(Type::Int) | Some(Type::Hex) | Some(Type::String)
                    ) {
                        self.menu_warnings.push(format!(
                            "{}:warning: '{target}' has wrong type. '{what}' only accept arguments of bool and tristate type",
                            p.loc
                        ));
                    }
                }
            }
        }
    }

    /// conf's `menu_validate_number`: an int or hex symbol, or a constant
    /// that is a valid value of `sym`'s type.
    fn valid_number(&self, sym: usize, e: &Expr) -> bool {
        let w = match e {
            Expr::Sym(w) | Expr::Str(w) => w,
            _ => return false,
        };
        match self.by_name.get(w.as_str()) {
            Some(&j) if self.syms[j].typ.is_some() => {
                matches!(self.syms[j].typ, Some(Type::Int) | Some(Type::Hex))
            }
            _ => self.string_valid(sym, w),
        }
    }

    /// Every parsed entry (definition) of a symbol, in order.
    fn entries_of(&self, sym: usize) -> Vec<ConfigEntry> {
        self.cmenus
            .iter()
            .filter(|c| c.sym == Some(sym))
            .filter_map(|c| c.entry.and_then(|e| self.entries.get(e).cloned()))
            .collect()
    }

    /// Finalize `list[k]`: recurse into its children, or (a symbol without
    /// children) take the entries right after it that depend on it.
    fn finalize_at(&mut self, list: &mut Vec<usize>, k: usize) {
        let m = list[k];
        if !self.cmenus[m].list.is_empty() {
            self.finalize(m);
            return;
        }
        let Some(sym) = self.cmenus[m].sym else {
            return;
        };
        let name = self.syms[sym].name.clone();
        let base = self.cmenus[m].prompt_vis.clone();
        let mut taken = Vec::new();
        while k + 1 < list.len() {
            let c = list[k + 1];
            let dep = if self.cmenus[c].prompt.is_some() {
                self.cmenus[c].prompt_vis.clone()
            } else {
                self.cmenus[c].dep.clone()
            };
            if name.is_empty() || !dep.as_ref().is_some_and(|d| contains_symbol(d, &name)) {
                break;
            }
            let dep = dep.unwrap_or_else(|| Expr::Sym("y".into()));
            if !depends_symbol(&dep, &name) && !superset(&dep, &base) {
                break;
            }
            self.finalize_at(list, k + 1);
            let c = list.remove(k + 1);
            self.cmenus[c].parent = m;
            taken.push(c);
        }
        self.cmenus[m].list = self.flatten(m, taken);
        self.finalize_warnings(m);
    }

    /// conf's flattening of `if` blocks and of submenus below promptless symbols.
    fn flatten(&mut self, m: usize, list: Vec<usize>) -> Vec<usize> {
        let mut out = Vec::with_capacity(list.len());
        let mut work: std::collections::VecDeque<usize> = list.into();
        while let Some(c) = work.pop_front() {
            out.push(c);
            if !self.cmenus[c].list.is_empty() && self.cmenus[c].prompt.is_none() {
                let kids = std::mem::take(&mut self.cmenus[c].list);
                for &g in kids.iter().rev() {
                    self.cmenus[g].parent = m;
                    work.push_front(g);
                }
            }
        }
        out
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
        let def_loc = e
            .loc
            .as_ref()
            .or_else(|| e.props.first().map(|p| &p.loc))
            .map(|l| l.to_string())
            .unwrap_or_default();
        self.syms[i].checks.push(CheckProp {
            kind: "symbol",
            loc: def_loc,
            visible: full.clone(),
            value: None,
        });
        for p in &e.props {
            let cond = and(full.clone(), p.cond.clone());
            let kind = match &p.kind {
                PropKind::Prompt(_) => Some(("prompt", and(cond.clone(), vis.clone()), None)),
                PropKind::Default(v) => Some(("default", cond.clone(), Some(v.clone()))),
                PropKind::Range(..) => Some(("range", cond.clone(), None)),
                _ => None,
            };
            if let Some((kind, visible, value)) = kind {
                self.syms[i].checks.push(CheckProp {
                    kind,
                    loc: p.loc.to_string(),
                    visible,
                    value,
                });
            }
            match &p.kind {
                PropKind::Prompt(_) => {
                    let v = and(cond, vis.clone());
                    self.syms[i].prompts.push(v);
                }
                PropKind::Default(v) => self.syms[i].defaults.push((v.clone(), cond)),
                PropKind::Range(lo, hi) => self.syms[i].ranges.push((lo.clone(), hi.clone(), cond)),
                PropKind::Select(t) => {
                    self.syms[i].selects.push(t.clone());
                    let j = self.sym(t);
                    let term = match cond {
                        Some(c) => Expr::And(Box::new(me.clone()), Box::new(c)),
                        None => me.clone(),
                    };
                    self.syms[j].rev_dep = or(self.syms[j].rev_dep.take(), term);
                }
                PropKind::Imply(t) => {
                    self.syms[i].implies.push(t.clone());
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
                    // (menu_finalize: a reverse dependency `<prompt visibility> && m`,
                    // so a visible choice is at least m, and y when it is a bool)
                    if !*optional {
                        if let Some(p) = self.syms[i].prompts.first().cloned() {
                            let m = Expr::Sym("m".into());
                            let v = match p {
                                Some(p) => Expr::And(Box::new(p), Box::new(m)),
                                None => m,
                            };
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
                        // conf_read_simple: a value set to y is the choice's
                        // pick, and the choice's mode is the highest value read
                        if value == "y" {
                            self.choices[c].selected = Some(i);
                        }
                        let cs = self.choices[c].sym;
                        let t =
                            letter(value).or(self.syms[cs].user.as_deref().map_or(Tri::N, letter));
                        self.syms[cs].user = Some(t.letter().into());
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
        // conf_read_simple: every choice counts as set once a file is read
        for s in &mut self.syms {
            if s.is_choice.is_some() {
                s.has_value_flag = true;
            }
        }
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
        // conf_read: count what the file does not record as computed; when it
        // records everything, values of invisible symbols are forgotten (so
        // they are asked as new should they become visible)
        self.evaluate();
        let mut unsaved = usize::from(dropped);
        for s in &self.syms {
            if s.is_choice.is_some() || s.no_write || s.typ.is_none() {
                continue;
            }
            match (&s.user, s.write) {
                (Some(u), true) => {
                    let same = match s.typ {
                        Some(Type::Bool) | Some(Type::Tristate) => letter(u) == s.tri,
                        _ => *u == s.val,
                    };
                    if same {
                        continue;
                    }
                }
                (None, false) => continue,
                _ => {}
            }
            unsaved += 1;
        }
        if unsaved == 0 {
            for s in &mut self.syms {
                if s.user.is_some() && s.choice.is_none() && s.visible == Tri::N {
                    s.user = None;
                }
            }
        }
        self.changed = unsaved > 0 || !self.warnings.is_empty();
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
        // sym_get_type: a tristate value of a y choice, or any tristate without
        // modules, is a bool
        if t == Some(Type::Tristate)
            && ((self.syms[i].choice.is_some() && self.syms[i].visible == Tri::Y)
                || !self.modules_on())
        {
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

    /// conf's `sym_calc_visibility` (the `visible` part): a choice value's
    /// prompts depend on its choice, and a tristate value's m prompt is hidden
    /// under a y choice.
    fn visibility(&mut self, i: usize) -> Tri {
        let typ = self.syms[i].typ;
        let choice_tri = match self.syms[i].choice {
            Some(c) => {
                let cs = self.choices[c].sym;
                let ct = self.calc(cs).0;
                Some((self.value_bound(cs, ct, typ), ct))
            }
            None => None,
        };
        let mut vis = Tri::N;
        for p in self.syms[i].prompts.clone() {
            let mut t = self.eval_opt(&p, Tri::Y);
            if let Some((bound, ct)) = choice_tri {
                t = t.and(bound);
                if typ == Some(Type::Tristate) && t == Tri::M && ct == Tri::Y {
                    t = Tri::N;
                }
            }
            vis = vis.or(t);
        }
        if vis == Tri::M && (typ != Some(Type::Tristate) || !self.modules_on()) {
            vis = Tri::Y;
        }
        vis
    }

    /// How far a choice value's prompts can be visible: the choice's mode, and
    /// for a value that is not a tristate in a tristate choice, only a y choice
    /// (menu_finalize adds `choice = y` to such values' dependencies).
    fn value_bound(&self, cs: usize, ct: Tri, value_type: Option<Type>) -> Tri {
        if self.syms[cs].typ == Some(Type::Tristate) && value_type != Some(Type::Tristate) {
            if ct == Tri::Y {
                Tri::Y
            } else {
                Tri::N
            }
        } else {
            ct
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
        // visibility (sym_calc_visibility); a choice value's prompts depend on
        // its choice, and a tristate value's m prompt is hidden under a y choice
        let vis = self.visibility(i);
        let is_choice_value = self.syms[i].choice.is_some();
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
        let mut only_range = false;
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
                                // an imply obeys the direct dependencies (since 5.2)
                                write = true;
                                tri = tri.or(implied).and(dir_dep);
                            }
                        }
                    }
                    if dir_dep < rev_dep && !self.unmet.contains(&i) {
                        self.unmet.push(i);
                    }
                    tri = tri.or(rev_dep);
                }
                if tri == Tri::M && self.eff_type(i) == Some(Type::Bool) {
                    tri = Tri::Y;
                }
                val = tri.letter().to_string();
            }
            Some(Type::Int) | Some(Type::Hex) | Some(Type::String) => {
                let user = self.syms[i].user.clone();
                let mut given = false;
                match user {
                    Some(u) if vis != Tri::N => {
                        val = u;
                        given = true;
                    }
                    _ => {
                        if let Some((v, _)) = self.default_prop(i) {
                            write = true;
                            given = true;
                            val = self.value_of(&v).1;
                        }
                    }
                }
                let before_empty = val.is_empty();
                val = self.validate_range(i, val);
                only_range = !given && before_empty && !val.is_empty();
            }
            None => {
                // a symbol without a type is never written (conf returns early)
                val = self.syms[i].name.clone();
                write = false;
            }
        }
        if self.syms[i].is_choice.is_some() || self.syms[i].no_write {
            write = false;
        }
        let s = &mut self.syms[i];
        s.tri = tri;
        s.val = val.clone();
        s.write = write;
        s.rev_tri = rev_dep;
        s.range_only = only_range;
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
        // conf's sym_validate_range: an empty value reads as 0 (so it stays
        // empty when 0 is in range), and a value out of range becomes the
        // bound: its own text since Linux 5.x, printed as a number (0x... for
        // hex) in Xen's older kconfig
        let v = strtoll(&val, base);
        let lo_s = self.value_of(&lo).1;
        let lo_v = strtoll(&lo_s, base);
        let bound = if v < lo_v {
            (lo_s, lo_v)
        } else {
            let hi_s = self.value_of(&hi).1;
            let hi_v = strtoll(&hi_s, base);
            if v <= hi_v {
                return val;
            }
            (hi_s, hi_v)
        };
        match (self.dialect, base) {
            (Dialect::Linux61, _) => bound.0,
            (Dialect::Xen, 16) => format!("0x{:x}", bound.1),
            (Dialect::Xen, _) => bound.1.to_string(),
        }
    }

    fn choice_selected(&mut self, c: usize) -> Option<usize> {
        let cs = self.choices[c].sym;
        let (ct, _) = self.calc(cs);
        // only a y choice picks one value; under an m choice each is free
        if ct != Tri::Y {
            return None;
        }
        self.choice_pick(c, true)
    }

    /// The user's pick when `use_user` and it is visible, else conf's
    /// `sym_choice_default`: the first visible default, else the first visible value.
    fn choice_pick(&mut self, c: usize, use_user: bool) -> Option<usize> {
        let cs = self.choices[c].sym;
        // value visibilities (their prompts only: the choice is y)
        let values = self.choices[c].values.clone();
        let mut visible = Vec::new();
        for &v in &values {
            let vis = self.visibility(v);
            visible.push(vis != Tri::N);
        }
        if let Some(sel) = self.choices[c].selected.filter(|_| use_user) {
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

    /// The written int/hex symbols whose value comes only from their range
    /// (no user value, no active default).
    pub fn range_only_symbols(&mut self) -> std::collections::BTreeSet<String> {
        self.evaluate();
        self.syms
            .iter()
            .filter(|s| s.range_only && s.write && !s.name.is_empty())
            .map(|s| s.name.clone())
            .collect()
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

impl Kconfig {
    /// Every defined symbol's type (`bool`, `tristate`, `int`, `hex`, `string`).
    pub fn symbol_types(&self) -> BTreeMap<String, &'static str> {
        self.syms
            .iter()
            .filter(|s| s.is_choice.is_none() && !s.name.is_empty())
            .filter_map(|s| {
                let t = match s.typ? {
                    Type::Bool => "bool",
                    Type::Tristate => "tristate",
                    Type::Int => "int",
                    Type::Hex => "hex",
                    Type::String => "string",
                };
                Some((s.name.clone(), t))
            })
            .collect()
    }
}

/// conf's `sym_check_deps`: recursive dependencies, reported as conf does.
struct DepCheck<'k> {
    k: &'k Kconfig,
    check: Vec<bool>,
    checked: Vec<bool>,
    /// (symbol, property index, which expression) per level, bottom first.
    stack: Vec<(usize, Option<usize>, Dep)>,
    out: Vec<String>,
    depth: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dep {
    None,
    Dir,
    Rev,
    Implied,
    /// A property's value expression (a default's).
    Value,
}

/// The longest chain of dependencies followed (a bound for hostile trees).
const MAX_DEP_CHAIN: usize = 4000;

impl DepCheck<'_> {
    fn expr(&mut self, e: &Option<Expr>) -> Option<usize> {
        let e = e.as_ref()?;
        match e {
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) => {
                let a = Some((**a).clone());
                if let Some(s) = self.expr(&a) {
                    return Some(s);
                }
                self.expr(&Some((**b).clone()))
            }
            Expr::Not(a) => self.expr(&Some((**a).clone())),
            Expr::Sym(w) => match self.k.by_name.get(w) {
                Some(&i) => self.sym(i),
                None => None,
            },
            Expr::Str(_) => None,
        }
    }

    fn top(&mut self) -> &mut (usize, Option<usize>, Dep) {
        let n = self.stack.len() - 1;
        &mut self.stack[n]
    }

    fn sym_deps(&mut self, i: usize) -> Option<usize> {
        let s = &self.k.syms[i];
        let (dir, rev, imp) = (
            s.dir_dep.clone().flatten(),
            s.rev_dep.clone(),
            s.implied.clone(),
        );
        self.stack.push((i, None, Dep::Dir));
        let mut r = self.expr(&dir);
        if r.is_none() {
            self.top().2 = Dep::Rev;
            r = self.expr(&rev);
        }
        if r.is_none() {
            self.top().2 = Dep::Implied;
            r = self.expr(&imp);
        }
        if r.is_none() {
            self.top().2 = Dep::None;
            let checks = self.k.syms[i].checks.clone();
            for (n, p) in checks.iter().enumerate() {
                self.top().1 = Some(n);
                r = self.expr(&p.visible);
                if r.is_some() {
                    break;
                }
                if p.kind != "default" || self.k.syms[i].is_choice.is_some() {
                    continue;
                }
                self.top().2 = Dep::Value;
                r = self.expr(&p.value);
                if r.is_some() {
                    break;
                }
                self.top().2 = Dep::None;
            }
        }
        self.stack.pop();
        r
    }

    fn choice_deps(&mut self, cs: usize) -> Option<usize> {
        let c = self.k.syms[cs].is_choice.unwrap_or(0);
        let values = self.k.choices[c].values.clone();
        self.stack.push((cs, None, Dep::None));
        for &v in &values {
            self.check[v] = true;
            self.checked[v] = true;
        }
        self.check[cs] = true;
        self.checked[cs] = true;
        let mut r = self.sym_deps(cs);
        self.check[cs] = false;
        if r.is_none() {
            for &v in &values {
                r = self.sym_deps(v);
                if r.is_some() {
                    break;
                }
            }
        }
        for &v in &values {
            self.check[v] = false;
        }
        if let Some(s2) = r {
            if self.k.syms[s2].choice == Some(c) {
                r = Some(cs);
            }
        }
        self.stack.pop();
        r
    }

    fn sym(&mut self, i: usize) -> Option<usize> {
        if self.check[i] {
            self.print(i);
            return Some(i);
        }
        if self.checked[i] {
            return None;
        }
        self.depth += 1;
        if self.depth > MAX_DEP_CHAIN {
            self.depth -= 1;
            self.checked[i] = true;
            return None;
        }
        let r = if let Some(c) = self.k.syms[i].choice {
            self.stack.push((i, None, Dep::None));
            let cs = self.k.choices[c].sym;
            let r = self.sym(cs);
            self.stack.pop();
            r
        } else if self.k.syms[i].is_choice.is_some() {
            self.choice_deps(i)
        } else {
            self.check[i] = true;
            self.checked[i] = true;
            let r = self.sym_deps(i);
            self.check[i] = false;
            r
        };
        self.depth -= 1;
        r
    }

    fn name(&self, i: usize) -> String {
        let n = &self.k.syms[i].name;
        if n.is_empty() {
            "<choice>".into()
        } else {
            n.clone()
        }
    }

    fn print(&mut self, last: usize) {
        let mut last = last;
        let mut stack = self.stack.clone();
        if let Some(c) = self.k.syms[last].choice {
            stack.push((last, None, Dep::None));
            last = self.k.choices[c].sym;
        }
        let Some(start) = stack.iter().rposition(|f| f.0 == last) else {
            self.out
                .push("unexpected recursive dependency error\n".into());
            return;
        };
        let mut msg = String::new();
        for n in start..stack.len() {
            let (sym, prop, dep) = stack[n];
            let next = stack.get(n + 1).map_or(last, |f| f.0);
            let s = &self.k.syms[sym];
            let first = s.checks.first().map(|p| p.loc.clone()).unwrap_or_default();
            let p = prop.and_then(|k| s.checks.get(k));
            let loc = p.map_or(first.clone(), |p| p.loc.clone());
            if n == start {
                msg.push_str(&format!("{loc}:error: recursive dependency detected!\n"));
            }
            let (me, other) = (self.name(sym), self.name(next));
            let line = if s.is_choice.is_some() {
                format!("{first}:\tchoice {me} contains symbol {other}\n")
            } else if s.choice.is_some() {
                format!("{first}:\tsymbol {me} is part of choice {other}\n")
            } else {
                match dep {
                    Dep::Dir => format!("{loc}:\tsymbol {me} depends on {other}\n"),
                    Dep::Rev => format!("{loc}:\tsymbol {me} is selected by {other}\n"),
                    Dep::Implied => format!("{loc}:\tsymbol {me} is implied by {other}\n"),
                    Dep::Value => format!(
                        "{loc}:\tsymbol {me} {} value contains {other}\n",
                        p.map_or("symbol", |p| p.kind)
                    ),
                    Dep::None => format!(
                        "{loc}:\tsymbol {me} {} is visible depending on {other}\n",
                        p.map_or("symbol", |p| p.kind)
                    ),
                }
            };
            msg.push_str(&line);
        }
        msg.push_str("For a resolution refer to Documentation/kbuild/kconfig-language.rst\nsubsection \"Kconfig recursive dependency limitations\"\n\n");
        self.out.push(msg);
    }
}

/// What conf's line-oriented front end (`conf.c`) and its writers need: the
/// menu tree, symbol flags and the setters with conf's validation.
impl Kconfig {
    pub(crate) fn cmenu(&self, m: usize) -> &CMenu {
        &self.cmenus[m]
    }

    pub(crate) fn sym_name(&self, i: usize) -> &str {
        &self.syms[i].name
    }

    /// conf's `sym_get_type`: a tristate is a bool without modules or inside a choice.
    pub(crate) fn get_type(&mut self, i: usize) -> Option<Type> {
        self.eff_type(i)
    }

    pub(crate) fn tri(&mut self, i: usize) -> Tri {
        self.calc(i).0
    }

    /// conf's `sym_get_string_value`.
    pub(crate) fn string_value(&mut self, i: usize) -> String {
        let (t, v) = self.calc(i);
        match self.syms[i].typ {
            Some(Type::Bool) | Some(Type::Tristate) => t.letter().to_string(),
            _ => v,
        }
    }

    /// conf's `sym_has_value` (SYMBOL_DEF_USER). A choice has a value only
    /// while each of its visible values has one (`sym_calc_choice`).
    pub(crate) fn has_value(&mut self, i: usize) -> bool {
        let own = self.syms[i].user.is_some() || self.syms[i].has_value_flag;
        let Some(c) = self.syms[i].is_choice else {
            return own;
        };
        // (sym_calc_choice runs for a y choice only)
        if !own || self.calc(i).0 != Tri::Y {
            return own;
        }
        for v in self.choices[c].values.clone() {
            self.calc(v);
            if self.syms[v].visible != Tri::N
                && !(self.syms[v].user.is_some() || self.syms[v].has_value_flag)
            {
                self.syms[i].has_value_flag = false;
                self.syms[i].user = None;
                return false;
            }
        }
        true
    }

    pub(crate) fn is_changeable(&mut self, i: usize) -> bool {
        self.calc(i);
        self.syms[i].visible > self.syms[i].rev_tri
    }

    pub(crate) fn is_choice(&self, i: usize) -> bool {
        self.syms[i].is_choice.is_some()
    }

    /// conf's `sym_get_choice_value`: the value the choice has picked.
    pub(crate) fn choice_value(&mut self, cs: usize) -> Option<usize> {
        let c = self.syms[cs].is_choice?;
        self.choice_selected(c)
    }

    /// Whether the configuration differs from what was read (conf_get_changed).
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// conf's `menu_is_visible` (with its side effect: a symbol shown only for
    /// its visible children counts as having a value).
    pub(crate) fn menu_is_visible(&mut self, m: usize) -> bool {
        if self.cmenus[m].prompt.is_none() {
            return false;
        }
        if let Some(v) = self.cmenus[m].visibility.clone() {
            if self.eval(&v) == Tri::N {
                return false;
            }
        }
        let pv = self.cmenus[m].prompt_vis.clone();
        let sym = self.cmenus[m].sym;
        let mut visible = self.eval_opt(&pv, Tri::Y);
        if let Some(i) = sym {
            self.calc(i);
            // as sym_calc_visibility computes prompt->visible.tri
            if let Some(c) = self.syms[i].choice {
                let cs = self.choices[c].sym;
                let ct = self.calc(cs).0;
                let typ = self.syms[i].typ;
                visible = visible.and(self.value_bound(cs, ct, typ));
                if self.syms[i].typ == Some(Type::Tristate) && visible == Tri::M && ct == Tri::Y {
                    visible = Tri::N;
                }
            }
        }
        if visible != Tri::N {
            return true;
        }
        let Some(i) = sym else { return false };
        if self.calc(i).0 == Tri::N {
            return false;
        }
        for c in self.cmenus[m].list.clone() {
            if self.menu_is_visible(c) {
                self.syms[i].has_value_flag = true;
                return true;
            }
        }
        false
    }

    /// conf's `menu_get_parent_menu`: the nearest enclosing `menu` (or the root).
    pub(crate) fn parent_menu(&self, mut m: usize) -> usize {
        while m != 0 && !self.cmenus[m].is_menu {
            m = self.cmenus[m].parent;
        }
        m
    }

    /// conf's `sym_tristate_within_range`.
    pub(crate) fn tristate_within_range(&mut self, i: usize, val: Tri) -> bool {
        self.calc(i);
        let typ = self.eff_type(i);
        let s = &self.syms[i];
        if s.visible == Tri::N {
            return false;
        }
        if !matches!(typ, Some(Type::Bool) | Some(Type::Tristate)) {
            return false;
        }
        if typ == Some(Type::Bool) && val == Tri::M {
            return false;
        }
        if s.visible <= s.rev_tri {
            return false;
        }
        if s.choice.is_some() && s.visible == Tri::Y {
            return val == Tri::Y;
        }
        val >= s.rev_tri && val <= s.visible
    }

    fn clear_all_valid(&mut self) {
        for s in &mut self.syms {
            s.state = 0;
        }
    }

    /// conf's `sym_set_tristate_value`.
    pub(crate) fn set_tristate(&mut self, i: usize, val: Tri) -> bool {
        let old = self.tri(i);
        if old != val && !self.tristate_within_range(i, val) {
            return false;
        }
        if !self.has_value(i) {
            self.changed = true;
        }
        self.syms[i].has_value_flag = true;
        if let (Some(c), Tri::Y) = (self.syms[i].choice, val) {
            self.choices[c].selected = Some(i);
            let cs = self.choices[c].sym;
            self.syms[cs].user = Some("y".into());
            for v in self.choices[c].values.clone() {
                if self.syms[v].visible != Tri::N {
                    self.syms[v].has_value_flag = true;
                }
            }
        }
        self.syms[i].user = Some(val.letter().to_string());
        if old != val {
            self.changed = true;
            self.clear_all_valid();
        }
        true
    }

    /// conf's `sym_string_valid`.
    fn string_valid(&self, i: usize, v: &str) -> bool {
        let b = v.as_bytes();
        match self.syms[i].typ {
            Some(Type::String) => true,
            Some(Type::Int) => {
                let d = b.strip_prefix(b"-").unwrap_or(b);
                !d.is_empty() && d.iter().all(u8::is_ascii_digit) && !(d[0] == b'0' && d.len() > 1)
            }
            Some(Type::Hex) => {
                let d = b
                    .strip_prefix(b"0x")
                    .or_else(|| b.strip_prefix(b"0X"))
                    .unwrap_or(b);
                // conf's do-while looks at the first character even when empty
                !d.is_empty() && d.iter().all(u8::is_ascii_hexdigit)
            }
            Some(Type::Bool) | Some(Type::Tristate) => {
                matches!(b.first(), Some(b'y' | b'Y' | b'm' | b'M' | b'n' | b'N'))
            }
            None => false,
        }
    }

    /// conf's `sym_set_string_value`.
    pub(crate) fn set_string(&mut self, i: usize, v: &str) -> bool {
        match self.syms[i].typ {
            Some(Type::Bool) | Some(Type::Tristate) => {
                return match v.as_bytes().first() {
                    Some(b'y' | b'Y') => self.set_tristate(i, Tri::Y),
                    Some(b'm' | b'M') => self.set_tristate(i, Tri::M),
                    Some(b'n' | b'N') => self.set_tristate(i, Tri::N),
                    _ => false,
                };
            }
            None => return false,
            _ => {}
        }
        if !self.string_valid(i, v) {
            return false;
        }
        if matches!(self.syms[i].typ, Some(Type::Int) | Some(Type::Hex)) {
            self.calc(i);
            if !self.within_range(i, v) {
                return false;
            }
        }
        if !self.has_value(i) {
            self.changed = true;
        }
        self.syms[i].has_value_flag = true;
        let v = if self.syms[i].typ == Some(Type::Hex)
            && !(v.starts_with("0x") || v.starts_with("0X"))
        {
            format!("0x{v}")
        } else {
            v.to_string()
        };
        if self.syms[i].user.as_deref() != Some(v.as_str()) {
            self.syms[i].user = Some(v);
            self.changed = true;
            self.clear_all_valid();
        }
        true
    }

    /// conf's `sym_get_string_default`.
    fn string_default(&mut self, i: usize) -> String {
        self.calc(i);
        let typ = self.syms[i].typ;
        let mut val = Tri::N;
        let mut s = String::new();
        if let Some((e, cond)) = self.default_prop(i) {
            match typ {
                Some(Type::Bool) | Some(Type::Tristate) => val = self.eval(&e).and(cond),
                _ => s = self.value_of(&e).1,
            }
        }
        val = val.or(self.syms[i].rev_tri);
        if val == Tri::M && self.syms[i].choice.is_none() && !self.modules_on() {
            val = Tri::Y;
        }
        if typ == Some(Type::Bool) && val == Tri::M {
            val = Tri::Y;
        }
        let imp = self.syms[i].implied.clone();
        let implied = {
            let t = self.eval_opt(&imp, Tri::N);
            self.bool_fold(i, t)
        };
        if val < implied {
            val = implied;
        }
        match typ {
            Some(Type::Bool) | Some(Type::Tristate) => val.letter().to_string(),
            Some(_) => s,
            None => String::new(),
        }
    }

    /// conf's `expr_gstr_print`: symbols with their values (`A [=y] && B [=n]`),
    /// parentheses only where precedence needs them.
    fn expr_str(&mut self, e: &Option<Expr>) -> String {
        fn prec(e: &Expr) -> u8 {
            match e {
                Expr::Or(..) => 1,
                Expr::And(..) => 2,
                Expr::Not(..) => 3,
                _ => 4,
            }
        }
        fn go(k: &mut Kconfig, e: &Expr, outer: u8, out: &mut String) {
            let paren = outer > prec(e) && outer != 0;
            if paren {
                out.push('(');
            }
            match e {
                Expr::Sym(w) | Expr::Str(w) => k.word_str(w, out),
                Expr::Not(a) => {
                    out.push('!');
                    go(k, a, 3, out);
                }
                Expr::And(a, b) => {
                    go(k, a, 2, out);
                    out.push_str(" && ");
                    go(k, b, 2, out);
                }
                Expr::Or(a, b) => {
                    go(k, a, 1, out);
                    out.push_str(" || ");
                    go(k, b, 1, out);
                }
                Expr::Cmp(op, a, b) => {
                    go(k, a, 4, out);
                    out.push_str(match op {
                        CmpOp::Eq => "=",
                        CmpOp::Ne => "!=",
                        CmpOp::Lt => "<",
                        CmpOp::Le => "<=",
                        CmpOp::Gt => ">",
                        CmpOp::Ge => ">=",
                    });
                    go(k, b, 4, out);
                }
            }
            if paren {
                out.push(')');
            }
        }
        let mut out = String::new();
        match e {
            None => out.push('y'),
            Some(e) => go(self, e, 0, &mut out),
        }
        out
    }

    fn word_str(&mut self, w: &str, out: &mut String) {
        out.push_str(w);
        let typed = match w {
            "y" | "m" | "n" => Some(w.to_string()),
            _ => match self.by_name.get(w).copied() {
                Some(i) if self.syms[i].typ.is_some() => Some(self.string_value(i)),
                _ => None,
            },
        };
        if let Some(v) = typed {
            out.push_str(&format!(" [={v}]"));
        }
    }

    /// conf's `menu_get_ext_help` for a menu entry: its help text (or conf's
    /// "no help" line) and the symbol summary of `get_symbol_str`.
    pub(crate) fn help_text(&mut self, m: usize) -> String {
        let c = self.cmenus[m].clone();
        let mut r = String::new();
        match (&c.help, c.sym) {
            (Some(h), Some(s)) => {
                if !self.syms[s].name.is_empty() {
                    r.push_str(&format!("CONFIG_{}:\n\n", self.syms[s].name));
                }
                r.push_str(h);
                r.push('\n');
            }
            _ => r.push_str("There is no help available for this option.\n"),
        }
        let Some(sym) = c.sym else { return r };
        let name = self.syms[sym].name.clone();
        if !name.is_empty() {
            let v = self.string_value(sym);
            r.push_str(&format!("Symbol: {name} [={v}]\n"));
            let t = match self.syms[sym].typ {
                Some(Type::Bool) => "bool",
                Some(Type::Tristate) => "tristate",
                Some(Type::Int) => "integer",
                Some(Type::Hex) => "hex",
                Some(Type::String) => "string",
                None => "unknown",
            };
            r.push_str(&format!("Type  : {t}\n"));
            if matches!(self.syms[sym].typ, Some(Type::Int) | Some(Type::Hex)) {
                let mut range = None;
                for (lo, hi, cond) in self.syms[sym].ranges.clone() {
                    if self.eval_opt(&cond, Tri::Y) != Tri::N {
                        range = Some((lo, hi));
                        break;
                    }
                }
                if let Some((lo, hi)) = range {
                    let (mut a, mut b) = (String::new(), String::new());
                    self.word_str(&expr_word(&lo), &mut a);
                    self.word_str(&expr_word(&hi), &mut b);
                    r.push_str(&format!("Range : [{a} {b}]\n"));
                }
            }
        }
        // the definitions with prompts first, then the others
        let entries: Vec<usize> = (1..self.cmenus.len())
            .filter(|&i| self.cmenus[i].sym == Some(sym))
            .collect();
        for &e in &entries {
            let em = self.cmenus[e].clone();
            let Some(p) = &em.prompt else { continue };
            r.push_str(&format!("Defined at {}\n", em.loc));
            r.push_str(&format!("  Prompt: {p}\n"));
            if let Some(c) = self.syms[sym].choice {
                // conf's dependencies of a choice value start with the choice
                let cs = self.choices[c].sym;
                let mut d = String::new();
                if self.syms[cs].name.is_empty() {
                    d.push_str("<choice>");
                } else {
                    let n = self.syms[cs].name.clone();
                    self.word_str(&n, &mut d);
                }
                if em.dep.is_some() {
                    d.push_str(" && ");
                    d.push_str(&self.expr_str(&em.dep));
                }
                r.push_str(&format!("  Depends on: {d}\n"));
            } else if em.dep.is_some() {
                let d = self.expr_str(&em.dep);
                r.push_str(&format!("  Depends on: {d}\n"));
            }
            if em.prompt_vis != em.dep {
                let d = self.expr_str(&em.prompt_vis);
                r.push_str(&format!("  Visible if: {d}\n"));
            }
            r.push_str("  Location:\n");
            let mut chain = Vec::new();
            let mut x = e;
            while x != 0 && chain.len() < 8 {
                chain.push(x);
                x = self.cmenus[x].parent;
            }
            let mut j = 4;
            for &x in chain.iter().rev() {
                let xm = self.cmenus[x].clone();
                let prompt = xm
                    .prompt
                    .clone()
                    .or_else(|| xm.sym.map(|s| self.syms[s].name.clone()))
                    .unwrap_or_default();
                r.push_str(&format!("{}-> {prompt}", " ".repeat(j)));
                if let Some(s) = xm.sym {
                    let n = if self.syms[s].name.is_empty() {
                        "<choice>".to_string()
                    } else {
                        self.syms[s].name.clone()
                    };
                    let v = self.string_value(s);
                    r.push_str(&format!(" ({n} [={v}])"));
                }
                r.push('\n');
                j += 2;
            }
        }
        for &e in &entries {
            let em = self.cmenus[e].clone();
            if em.prompt.is_some() {
                continue;
            }
            r.push_str(&format!("Defined at {}\n", em.loc));
            if em.dep.is_some() {
                let d = self.expr_str(&em.dep);
                r.push_str(&format!("  Depends on: {d}\n"));
            }
        }
        let lists = self.dep_lists(sym);
        r.push_str(&lists);
        r.push_str("\n\n");
        r
    }

    /// The `Selects:`/`Selected by` and `Implies:`/`Implied by` parts.
    fn dep_lists(&mut self, sym: usize) -> String {
        let mut r = String::new();
        let selects: Vec<String> = self.syms[sym].selects.clone();
        if !selects.is_empty() {
            let mut parts = Vec::new();
            for t in &selects {
                let mut o = String::new();
                self.word_str(t, &mut o);
                parts.push(o);
            }
            r.push_str(&format!("Selects: {}\n", parts.join(" && ")));
        }
        let rev = self.syms[sym].rev_dep.clone();
        r.push_str(&self.revdep_str(&rev, "Selected by"));
        let imps: Vec<String> = self.syms[sym].implies.clone();
        if !imps.is_empty() {
            let mut parts = Vec::new();
            for t in &imps {
                let mut o = String::new();
                self.word_str(t, &mut o);
                parts.push(o);
            }
            r.push_str(&format!("Implies: {}\n", parts.join(" && ")));
        }
        let imp = self.syms[sym].implied.clone();
        r.push_str(&self.revdep_str(&imp, "Implied by"));
        r
    }

    /// conf's `expr_gstr_print_revdep` for y, m and n: the top-level `||` terms
    /// by their value, one `  - ` line each.
    fn revdep_str(&mut self, e: &Option<Expr>, title: &str) -> String {
        fn terms(e: &Expr, out: &mut Vec<Expr>) {
            if let Expr::Or(a, b) = e {
                terms(a, out);
                terms(b, out);
            } else {
                out.push(e.clone());
            }
        }
        let Some(e) = e else { return String::new() };
        let mut ts = Vec::new();
        terms(e, &mut ts);
        let mut r = String::new();
        for (t, l) in [(Tri::Y, "y"), (Tri::M, "m"), (Tri::N, "n")] {
            let mut hit = false;
            for term in &ts {
                if self.eval(term) != t {
                    continue;
                }
                if !hit {
                    r.push_str(&format!("{title} [{l}]:\n"));
                    hit = true;
                }
                let s = self.expr_str(&Some(term.clone()));
                r.push_str(&format!("  - {s}\n"));
            }
        }
        r
    }

    /// conf's "unmet direct dependencies" warnings (`sym_warn_unmet_dep`), one
    /// per symbol selected past its direct dependencies, in the order found,
    /// among the symbols calculated so far (conf warns when it calculates).
    pub fn unmet_dependencies(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for i in self.unmet.clone() {
            let mut r = format!(
                "\nWARNING: unmet direct dependencies detected for {}\n",
                self.syms[i].name
            );
            let dir = self.syms[i].dir_dep.clone().flatten();
            let t = self.eval_opt(&dir, Tri::Y);
            let t = self.bool_fold(i, t);
            let d = self.expr_str(&dir);
            r.push_str(&format!(
                "  Depends on [{}]: {d}\n",
                if t == Tri::M { 'm' } else { 'n' }
            ));
            let rev = self.syms[i].rev_dep.clone();
            let full = self.revdep_str(&rev, "Selected by");
            // conf prints the y and m groups here, not n
            let cut = full.find("Selected by [n]:").unwrap_or(full.len());
            r.push_str(&full[..cut].replace("Selected by [", "  Selected by ["));
            out.push(r);
        }
        out
    }

    /// `--listnewconfig`'s line (`print_symbol_for_listconfig`: n is printed).
    pub(crate) fn listconfig_line(&mut self, i: usize) -> String {
        let v = self.string_value(i);
        match self.syms[i].typ {
            None => String::new(),
            Some(Type::String) => format!("CONFIG_{}=\"{}\"\n", self.syms[i].name, escape(&v)),
            _ => format!("CONFIG_{}={}\n", self.syms[i].name, v),
        }
    }

    /// The minimal configuration conf's `--savedefconfig` writes.
    pub fn savedefconfig_text(&mut self) -> String {
        self.clear_all_valid();
        let mut out = String::new();
        let mut done = vec![false; self.syms.len()];
        let mut stack: Vec<usize> = self.cmenus[0].list.iter().rev().copied().collect();
        while let Some(m) = stack.pop() {
            stack.extend(self.cmenus[m].list.iter().rev().copied());
            let Some(i) = self.cmenus[m].sym else {
                continue;
            };
            if self.is_choice(i) || done[i] {
                continue;
            }
            self.calc(i);
            done[i] = true;
            if !self.syms[i].write || !self.is_changeable(i) {
                continue;
            }
            if self.string_value(i) == self.string_default(i) {
                continue;
            }
            if let Some(c) = self.syms[i].choice {
                let ds = self.choice_pick(c, false);
                if !self.choices[c].optional
                    && ds == Some(i)
                    && self.syms[i].typ == Some(Type::Bool)
                    && self.tri(i) == Tri::Y
                {
                    continue;
                }
            }
            out.push_str(&self.config_line(i));
        }
        out
    }

    /// conf's check for recursive dependencies (run by conf after parsing; any
    /// finding makes conf stop with status 1): one message per cycle, exactly
    /// as conf prints them, in conf's order.
    pub fn recursive_dependencies(&self) -> Vec<String> {
        let n = self.syms.len();
        let mut c = DepCheck {
            k: self,
            check: vec![false; n],
            checked: vec![false; n],
            stack: Vec::new(),
            out: Vec::new(),
            depth: 0,
        };
        for i in self.table_order() {
            if self.syms[i].typ.is_some() || self.syms[i].is_choice.is_some() {
                c.sym(i);
            }
        }
        c.out
    }

    /// Symbols in conf's `for_all_symbols` order (its hash table's buckets).
    fn table_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.syms.len()).collect();
        order.sort_by_key(|&i| (conf_bucket(&self.syms[i].name), std::cmp::Reverse(i)));
        order
    }

    /// `include/config/auto.conf` as conf writes it.
    pub fn auto_conf_text(&mut self) -> String {
        self.evaluate();
        let mut out = format!(
            "#\n# Automatically generated file; DO NOT EDIT.\n# {}\n#\n",
            self.mainmenu
        );
        for i in self.table_order() {
            let s = &self.syms[i];
            if !s.write || s.name.is_empty() || s.typ.is_none() || s.is_choice.is_some() {
                continue;
            }
            match s.typ {
                Some(Type::Bool) | Some(Type::Tristate) if s.tri == Tri::N => {}
                Some(Type::Bool) | Some(Type::Tristate) => {
                    out.push_str(&format!("CONFIG_{}={}\n", s.name, s.tri.letter()))
                }
                _ => out.push_str(&format!("CONFIG_{}={}\n", s.name, s.val)),
            }
        }
        out
    }

    /// `include/generated/rustc_cfg` as conf writes it.
    pub fn rustc_cfg_text(&mut self) -> String {
        self.evaluate();
        let mut out = String::new();
        for i in self.table_order() {
            let s = &self.syms[i];
            if !s.write || s.name.is_empty() || s.typ.is_none() || s.is_choice.is_some() {
                continue;
            }
            let val = match s.typ {
                Some(Type::Bool) | Some(Type::Tristate) => {
                    if s.tri == Tri::N {
                        continue;
                    }
                    out.push_str(&format!("--cfg=CONFIG_{}\n", s.name));
                    s.tri.letter().to_string()
                }
                Some(Type::Hex) if !(s.val.starts_with("0x") || s.val.starts_with("0X")) => {
                    format!("0x{}", s.val)
                }
                _ => s.val.clone(),
            };
            out.push_str(&format!("--cfg=CONFIG_{}=\"{}\"\n", s.name, escape(&val)));
        }
        out
    }

    /// Every written symbol's value as `auto.conf` records it (n for unset
    /// bools), keyed by name, for conf's `conf_touch_deps`.
    pub fn auto_values(&mut self) -> BTreeMap<String, String> {
        self.evaluate();
        self.syms
            .iter()
            .filter(|s| s.write && !s.name.is_empty() && s.typ.is_some() && s.is_choice.is_none())
            .map(|s| {
                let v = match s.typ {
                    Some(Type::Bool) | Some(Type::Tristate) => s.tri.letter().to_string(),
                    _ => s.val.clone(),
                };
                (s.name.clone(), v)
            })
            .collect()
    }
}

/// The word of a constant or symbol expression (a range bound).
fn expr_word(e: &Expr) -> String {
    match e {
        Expr::Sym(w) | Expr::Str(w) => w.clone(),
        _ => String::new(),
    }
}

/// An entry's prompt (conf keeps the first) and its visibility: the entry's
/// dependencies, the prompt's `if` and the enclosing menus' `visible if`.
fn entry_prompt(
    e: &ConfigEntry,
    full: &Option<Expr>,
    vis: &Option<Expr>,
) -> (Option<String>, Option<Expr>) {
    for p in &e.props {
        if let PropKind::Prompt(text) = &p.kind {
            let v = and(and(full.clone(), p.cond.clone()), vis.clone());
            return (Some(text.clone()), v);
        }
    }
    (None, full.clone())
}

/// conf's `expr_contains_symbol`.
fn contains_symbol(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Sym(s) => s == name,
        Expr::Str(_) => false,
        Expr::Not(a) => contains_symbol(a, name),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) => {
            contains_symbol(a, name) || contains_symbol(b, name)
        }
    }
}

/// conf's `expr_depends_symbol`: `sym`, `sym=y`, `sym=m` or `sym!=n`, possibly
/// as one term of a conjunction.
fn depends_symbol(e: &Expr, name: &str) -> bool {
    match e {
        Expr::And(a, b) => depends_symbol(a, name) || depends_symbol(b, name),
        Expr::Sym(s) => s == name,
        Expr::Cmp(CmpOp::Eq, a, b) => {
            matches!(&**a, Expr::Sym(s) if s == name)
                && matches!(&**b, Expr::Sym(v) if v == "y" || v == "m")
        }
        Expr::Cmp(CmpOp::Ne, a, b) => {
            matches!(&**a, Expr::Sym(s) if s == name) && matches!(&**b, Expr::Sym(v) if v == "n")
        }
        _ => false,
    }
}

/// The terms of a conjunction, with `X != n` read as `X` (conf's
/// `expr_trans_compare(..., E_UNEQUAL, &symbol_no)` and `expr_transform`).
fn conj_terms(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::And(a, b) => {
            conj_terms(a, out);
            conj_terms(b, out);
        }
        Expr::Cmp(CmpOp::Ne, a, b) if matches!(&**b, Expr::Sym(v) if v == "n") => {
            out.push((**a).clone())
        }
        Expr::Sym(s) if s == "y" => {}
        other => out.push(other.clone()),
    }
}

/// Whether `dep` is a "superset" of `base` in menu_finalize's sense: every term
/// of `base` is a term of `dep` (what `expr_eliminate_eq` leaves of `base` is y).
fn superset(dep: &Expr, base: &Option<Expr>) -> bool {
    let Some(base) = base else { return true };
    let mut d = Vec::new();
    conj_terms(dep, &mut d);
    let mut b = Vec::new();
    conj_terms(base, &mut b);
    b.iter().all(|t| d.contains(t))
}

/// conf's `strhash(name) % SYMBOL_HASHSIZE` (32-bit FNV-1a, 9973 buckets).
fn conf_bucket(name: &str) -> u32 {
    // an anonymous choice has no name and goes to bucket 0
    if name.is_empty() {
        return 0;
    }
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
