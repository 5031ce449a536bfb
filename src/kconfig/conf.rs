//! conf's line-oriented front end (`scripts/kconfig/conf.c`, Linux 6.1): the
//! questions of `--oldaskconfig`, `--oldconfig` and `--syncconfig` (with conf's
//! exact prompt text and `(NEW)` markers, answers read from a reader), and the
//! listing of `--listnewconfig`.
//!
//! The walk is conf's: `conf()` over the menu tree (only menus holding new
//! symbols are shown outside `--oldaskconfig`), restarted by `check_conf()`
//! until no new symbol is left. Answers are validated by the evaluator's setters
//! exactly as conf's `sym_set_*_value` do; an answer that does not fit asks again.

use std::io::{BufRead, Write};

use super::eval::{Kconfig, Tri};
use super::parse::Type;

/// Which of conf's questioning modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Ask every visible symbol (`--oldaskconfig`, conf's default).
    OldAsk,
    /// Ask only new symbols (`--oldconfig`).
    Old,
    /// Like `Old`, as used during the build (`--syncconfig`).
    Sync,
    /// Print the new symbols with their values, ask nothing (`--listnewconfig`).
    ListNew,
    /// Print the new symbols' help texts, ask nothing (`--helpnewconfig`).
    HelpNew,
}

/// One run of the front end over a configuration.
pub struct Frontend<'a> {
    k: &'a mut Kconfig,
    input: &'a mut dyn BufRead,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    mode: Mode,
    /// Whether stdin and stdout are terminals (else answers are echoed).
    tty: bool,
    indent: usize,
    conf_cnt: usize,
    root_entry: usize,
    line: Vec<u8>,
    /// Questions asked (a bound against answers that never fit).
    asked: usize,
    /// Questions asked since the input ended.
    after_eof: usize,
}

/// The most questions one run asks before giving up on its input.
const MAX_QUESTIONS: usize = 1_000_000;
/// Questions answered by end of input before giving up.
const MAX_ASKS_AFTER_EOF: usize = 100;
/// conf reads answers into a PATH_MAX buffer.
const LINE_MAX: usize = 4096;

impl<'a> Frontend<'a> {
    pub fn new(
        k: &'a mut Kconfig,
        mode: Mode,
        input: &'a mut dyn BufRead,
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
        tty: bool,
    ) -> Self {
        Frontend {
            k,
            input,
            out,
            err,
            mode,
            tty,
            indent: 1,
            conf_cnt: 0,
            root_entry: 0,
            line: Vec::new(),
            asked: 0,
            after_eof: 0,
        }
    }

    /// conf's main loop for the mode.
    pub fn run(&mut self) -> std::io::Result<()> {
        if self.mode == Mode::OldAsk {
            self.root_entry = 0;
            self.conf(0)?;
            self.mode = Mode::Old;
        }
        loop {
            self.conf_cnt = 0;
            self.check_conf(0)?;
            if self.conf_cnt == 0 || self.asked > MAX_QUESTIONS {
                break;
            }
        }
        self.out.flush()
    }

    fn pad(&self, n: usize) -> String {
        " ".repeat(n)
    }

    /// conf's `xfgets`: one line into `line`; at end of input the line is left
    /// as it was and conf's message goes to stderr. Without a terminal the
    /// answer is echoed.
    fn xfgets(&mut self) -> std::io::Result<()> {
        self.asked += 1;
        // fgets: up to the newline (kept) or LINE_MAX - 1 bytes
        let mut buf = Vec::new();
        loop {
            let avail = self.input.fill_buf()?;
            if avail.is_empty() {
                break;
            }
            let room = LINE_MAX - 1 - buf.len();
            let take = avail.iter().take(room).position(|&c| c == b'\n');
            let (n, done) = match take {
                Some(i) => (i + 1, true),
                None => (avail.len().min(room), avail.len() >= room),
            };
            buf.extend_from_slice(&avail[..n]);
            self.input.consume(n);
            if done {
                break;
            }
        }
        if buf.is_empty() {
            self.err
                .write_all(b"\nError in reading or end of file.\n")?;
            // conf asks forever when the default does not fit and the input is
            // gone; we stop
            self.after_eof += 1;
            if self.after_eof > MAX_ASKS_AFTER_EOF {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the input ended and a question has no valid default (conf would ask forever)",
                ));
            }
        } else {
            self.line = buf;
        }
        if !self.tty {
            let l = self.line.clone();
            self.out.write_all(&l)?;
        }
        Ok(())
    }

    fn strip(&mut self) {
        while self.line.first().is_some_and(|c| c.is_ascii_whitespace()) {
            self.line.remove(0);
        }
        while self.line.last().is_some_and(|c| c.is_ascii_whitespace()) {
            self.line.pop();
        }
    }

    /// conf's `conf_askvalue`: false when nothing is to be asked.
    fn askvalue(&mut self, sym: usize, def: &str) -> std::io::Result<bool> {
        if !self.k.has_value(sym) {
            write!(self.out, "(NEW) ")?;
        }
        self.line = b"\n".to_vec();
        if !self.k.is_changeable(sym) {
            writeln!(self.out, "{def}")?;
            return Ok(false);
        }
        if matches!(self.mode, Mode::Old | Mode::Sync) && self.k.has_value(sym) {
            writeln!(self.out, "{def}")?;
            return Ok(false);
        }
        self.out.flush()?;
        self.xfgets()?;
        Ok(true)
    }

    fn prompt_of(&self, m: usize) -> String {
        let c = self.k.cmenu(m);
        match (&c.prompt, c.sym) {
            (Some(p), _) => p.clone(),
            (None, Some(s)) => self.k.sym_name(s).to_string(),
            (None, None) => String::new(),
        }
    }

    fn conf_string(&mut self, m: usize) -> std::io::Result<()> {
        let Some(sym) = self.k.cmenu(m).sym else {
            return Ok(());
        };
        loop {
            if self.asked > MAX_QUESTIONS {
                return Ok(());
            }
            let prompt = self.prompt_of(m);
            write!(self.out, "{}{} ", self.pad(self.indent - 1), prompt)?;
            write!(self.out, "({}) ", self.k.sym_name(sym))?;
            let def = self.k.string_value(sym);
            write!(self.out, "[{def}] ")?;
            if !self.askvalue(sym, &def)? {
                return Ok(());
            }
            let answer = match self.line.first() {
                Some(b'\n') => Some(def),
                Some(b'?') if self.line.get(1) == Some(&b'\n') => {
                    self.print_help(m)?;
                    None
                }
                _ => {
                    let mut l = self.line.clone();
                    // conf drops the last character (the newline fgets kept)
                    l.pop();
                    Some(String::from_utf8_lossy(&l).into_owned())
                }
            };
            if let Some(a) = answer {
                if self.k.set_string(sym, &a) {
                    return Ok(());
                }
            }
        }
    }

    fn conf_sym(&mut self, m: usize) -> std::io::Result<()> {
        let Some(sym) = self.k.cmenu(m).sym else {
            return Ok(());
        };
        loop {
            if self.asked > MAX_QUESTIONS {
                return Ok(());
            }
            let prompt = self.prompt_of(m);
            write!(self.out, "{}{} ", self.pad(self.indent - 1), prompt)?;
            let name = self.k.sym_name(sym).to_string();
            if !name.is_empty() {
                write!(self.out, "({name}) ")?;
            }
            let old = self.k.tri(sym);
            let mut s = String::from("[");
            s.push(match old {
                Tri::N => 'N',
                Tri::M => 'M',
                Tri::Y => 'Y',
            });
            for (v, t) in [(Tri::N, "/n"), (Tri::M, "/m"), (Tri::Y, "/y")] {
                if old != v && self.k.tristate_within_range(sym, v) {
                    s.push_str(t);
                }
            }
            s.push_str("/?] ");
            write!(self.out, "{s}")?;
            let def = self.k.string_value(sym);
            if !self.askvalue(sym, &def)? {
                return Ok(());
            }
            self.strip();
            let l = String::from_utf8_lossy(&self.line).into_owned();
            let new = match l.as_bytes().first() {
                Some(b'n' | b'N') if l.len() == 1 || &l[1..] == "o" => Some(Tri::N),
                Some(b'm' | b'M') if l.len() == 1 => Some(Tri::M),
                Some(b'y' | b'Y') if l.len() == 1 || &l[1..] == "es" => Some(Tri::Y),
                None => Some(old),
                Some(b'?') => {
                    self.print_help(m)?;
                    continue;
                }
                _ => continue,
            };
            if let Some(v) = new {
                if self.k.set_tristate(sym, v) {
                    return Ok(());
                }
                self.print_help(m)?;
            }
        }
    }

    fn conf_choice(&mut self, m: usize) -> std::io::Result<()> {
        let Some(sym) = self.k.cmenu(m).sym else {
            return Ok(());
        };
        let is_new = !self.k.has_value(sym);
        if self.k.is_changeable(sym) {
            self.conf_sym(m)?;
            match self.k.tri(sym) {
                Tri::N => return Ok(()),
                Tri::M => return Ok(()),
                Tri::Y => {}
            }
        } else {
            match self.k.tri(sym) {
                Tri::N => return Ok(()),
                Tri::M => {
                    let p = self.prompt_of(m);
                    writeln!(self.out, "{}{}", self.pad(self.indent - 1), p)?;
                    return Ok(());
                }
                Tri::Y => {}
            }
        }
        loop {
            if self.asked > MAX_QUESTIONS {
                return Ok(());
            }
            let p = self.prompt_of(m);
            writeln!(self.out, "{}{}", self.pad(self.indent - 1), p)?;
            let def_sym = self.k.choice_value(sym);
            let mut cnt = 0usize;
            let mut def = 0usize;
            self.line.clear();
            for child in self.k.cmenu(m).list.clone() {
                if !self.k.menu_is_visible(child) {
                    continue;
                }
                let Some(cs) = self.k.cmenu(child).sym else {
                    let p = self.prompt_of(child);
                    writeln!(self.out, "{}* {}", self.pad(self.indent - 1), p)?;
                    continue;
                };
                cnt += 1;
                let mark = if Some(cs) == def_sym {
                    def = cnt;
                    '>'
                } else {
                    ' '
                };
                write!(self.out, "{}{}", self.pad(self.indent - 1), mark)?;
                write!(self.out, " {}. {}", cnt, self.prompt_of(child))?;
                let name = self.k.sym_name(cs).to_string();
                if !name.is_empty() {
                    write!(self.out, " ({name})")?;
                }
                if !self.k.has_value(cs) {
                    write!(self.out, " (NEW)")?;
                }
                writeln!(self.out)?;
            }
            write!(self.out, "{}choice", self.pad(self.indent - 1))?;
            if cnt == 1 {
                writeln!(self.out, "[1]: 1")?;
            } else {
                write!(self.out, "[1-{cnt}?]: ")?;
                if matches!(self.mode, Mode::Old | Mode::Sync) && !is_new {
                    cnt = def;
                    writeln!(self.out, "{cnt}")?;
                } else {
                    self.out.flush()?;
                    self.xfgets()?;
                    self.strip();
                    match self.line.first() {
                        Some(b'?') => {
                            self.print_help(m)?;
                            continue;
                        }
                        None => cnt = def,
                        Some(c) if c.is_ascii_digit() => cnt = atoi(&self.line),
                        Some(_) => continue,
                    }
                }
            }
            // conf_childs: the cnt-th visible value
            let mut chosen = None;
            for child in self.k.cmenu(m).list.clone() {
                if self.k.cmenu(child).sym.is_none() || !self.k.menu_is_visible(child) {
                    continue;
                }
                cnt = cnt.wrapping_sub(1);
                if cnt == 0 {
                    chosen = Some(child);
                    break;
                }
            }
            let Some(child) = chosen else { continue };
            if self.line.last() == Some(&b'?') {
                self.print_help(child)?;
                continue;
            }
            if let Some(cs) = self.k.cmenu(child).sym {
                self.k.set_tristate(cs, Tri::Y);
            }
            for g in self.k.cmenu(child).list.clone() {
                self.indent += 2;
                self.conf(g)?;
                self.indent -= 2;
            }
            return Ok(());
        }
    }

    fn conf(&mut self, m: usize) -> std::io::Result<()> {
        if !self.k.menu_is_visible(m) {
            return Ok(());
        }
        let c = self.k.cmenu(m).clone();
        if let Some(p) = &c.prompt {
            // menus (and menuconfig entries) and comments get a heading; outside
            // --oldaskconfig a menu is only entered for its new symbols
            if c.is_menu && self.mode != Mode::OldAsk && self.root_entry != m {
                return self.check_conf(m);
            }
            if c.is_menu || c.sym.is_none() {
                let pad = self.pad(self.indent - 1);
                write!(self.out, "{pad}*\n{pad}* {p}\n{pad}*\n")?;
            }
        }
        if let Some(sym) = c.sym {
            if self.k.is_choice(sym) {
                self.conf_choice(m)?;
                if self.k.tri(sym) != Tri::M {
                    return Ok(());
                }
            } else {
                match self.k.get_type(sym) {
                    Some(Type::Int) | Some(Type::Hex) | Some(Type::String) => {
                        self.conf_string(m)?
                    }
                    _ => self.conf_sym(m)?,
                }
            }
            self.indent += 2;
        }
        for child in c.list.clone() {
            self.conf(child)?;
        }
        if c.sym.is_some() {
            self.indent -= 2;
        }
        Ok(())
    }

    fn check_conf(&mut self, m: usize) -> std::io::Result<()> {
        if !self.k.menu_is_visible(m) {
            return Ok(());
        }
        if let Some(sym) = self.k.cmenu(m).sym {
            if !self.k.has_value(sym)
                && (self.k.is_changeable(sym)
                    || (self.k.is_choice(sym) && self.k.tri(sym) == Tri::Y))
            {
                if self.mode == Mode::ListNew {
                    if !self.k.sym_name(sym).is_empty() {
                        let l = self.k.listconfig_line(sym);
                        self.out.write_all(l.as_bytes())?;
                    }
                } else if self.mode == Mode::HelpNew {
                    writeln!(self.out, "-----")?;
                    self.print_help(m)?;
                    writeln!(self.out, "-----")?;
                } else if self.asked <= MAX_QUESTIONS {
                    if self.conf_cnt == 0 {
                        write!(self.out, "*\n* Restart config...\n*\n")?;
                    }
                    self.conf_cnt += 1;
                    self.root_entry = self.k.parent_menu(m);
                    self.conf(self.root_entry)?;
                }
            }
        }
        for child in self.k.cmenu(m).list.clone() {
            self.check_conf(child)?;
        }
        Ok(())
    }

    /// conf's `print_help`.
    fn print_help(&mut self, m: usize) -> std::io::Result<()> {
        let text = self.k.help_text(m);
        write!(self.out, "\n{text}\n")
    }
}

/// C's `atoi` on the leading digits.
fn atoi(b: &[u8]) -> usize {
    let mut v: usize = 0;
    for &c in b.iter().take_while(|c| c.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(usize::from(c - b'0'));
    }
    v
}

/// conf's modes, as the drop-in takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropinMode {
    OldAsk,
    Old,
    Sync,
    ListNew,
    HelpNew,
    OldDef,
    AllDef,
    AllNo,
    AllYes,
    AllMod,
    Defconfig(std::path::PathBuf),
    SaveDefconfig(std::path::PathBuf),
}

/// What the drop-in needs besides the parsed tree: the environment conf reads
/// and where files are (relative to the current directory, as conf).
pub struct Dropin<'e> {
    pub mode: DropinMode,
    pub silent: bool,
    pub env: &'e dyn Fn(&str) -> Option<String>,
    /// Whether stdin and stdout are terminals.
    pub tty: bool,
}

/// Run conf's `main` after the parse: read the configuration the mode reads,
/// set new symbols, ask, and write `.config` (and, like conf, the files of
/// `--syncconfig` when `include/config/auto.conf` is missing or the mode is
/// `--syncconfig`). Returns conf's exit status.
pub fn run_dropin(
    k: &mut Kconfig,
    parsed: &super::parse::Parsed,
    d: &Dropin,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    use std::path::Path;
    let env = |n: &str| (d.env)(n);
    let config_name = env("KCONFIG_CONFIG").unwrap_or_else(|| ".config".into());
    let sync = d.mode == DropinMode::Sync;
    let quiet = d.silent || sync;
    let message = |out: &mut dyn Write, m: &str| -> std::io::Result<()> {
        if quiet {
            Ok(())
        } else {
            write!(out, "#\n# {m}\n#\n")
        }
    };
    // conf_read / conf_read_simple
    match &d.mode {
        DropinMode::Defconfig(f) => match std::fs::read(f) {
            Ok(t) => k.read_config(&String::from_utf8_lossy(&t)),
            Err(_) => {
                write!(
                    err,
                    "***\n*** Can't find default configuration \"{}\"!\n***\n",
                    f.display()
                )?;
                return Ok(1);
            }
        },
        DropinMode::AllDef | DropinMode::AllNo | DropinMode::AllYes | DropinMode::AllMod => {
            if let Some(name) = env("KCONFIG_ALLCONFIG") {
                if !name.is_empty() && name != "1" {
                    match std::fs::read(&name) {
                        Ok(t) => k.read_config(&String::from_utf8_lossy(&t)),
                        Err(_) => {
                            writeln!(err, "*** Can't read seed configuration \"{name}\"!")?;
                            return Ok(1);
                        }
                    }
                } else {
                    let file = match d.mode {
                        DropinMode::AllNo => "allno.config",
                        DropinMode::AllYes => "allyes.config",
                        DropinMode::AllMod => "allmod.config",
                        _ => "alldef.config",
                    };
                    match std::fs::read(file).or_else(|_| std::fs::read("all.config")) {
                        Ok(t) => k.read_config(&String::from_utf8_lossy(&t)),
                        Err(_) => {
                            writeln!(err, "*** KCONFIG_ALLCONFIG set, but no \"{file}\" or \"all.config\" file found")?;
                            return Ok(1);
                        }
                    }
                }
            }
        }
        _ => {
            if let Ok(t) = std::fs::read(&config_name) {
                k.read_config(&String::from_utf8_lossy(&t));
            } else {
                let list = env("KCONFIG_DEFCONFIG_LIST").unwrap_or_default();
                for p in list.split_whitespace() {
                    if let Ok(t) = std::fs::read(p) {
                        message(out, &format!("using defaults found in {p}"))?;
                        k.read_config(&String::from_utf8_lossy(&t));
                        break;
                    }
                }
            }
        }
    }
    let mut no_write = false;
    if sync && env("KCONFIG_NOSILENTUPDATE").is_some_and(|v| !v.is_empty()) {
        if k.changed() {
            write!(err, "\n*** The configuration requires explicit update.\n\n")?;
            return Ok(1);
        }
        no_write = true;
    }
    match &d.mode {
        DropinMode::AllNo => k.set_all(Tri::N),
        DropinMode::AllYes => k.set_all(Tri::Y),
        DropinMode::AllMod => k.set_all(Tri::M),
        DropinMode::OldAsk
        | DropinMode::Old
        | DropinMode::Sync
        | DropinMode::ListNew
        | DropinMode::HelpNew => {
            let mode = match d.mode {
                DropinMode::OldAsk => Mode::OldAsk,
                DropinMode::Old => Mode::Old,
                DropinMode::Sync => Mode::Sync,
                DropinMode::HelpNew => Mode::HelpNew,
                _ => Mode::ListNew,
            };
            Frontend::new(k, mode, input, out, err, d.tty).run()?;
        }
        _ => {}
    }
    match &d.mode {
        DropinMode::SaveDefconfig(f) => {
            let text = k.savedefconfig_text();
            for w in k.unmet_dependencies() {
                err.write_all(w.as_bytes())?;
            }
            if std::fs::write(f, text).is_err() {
                write!(
                    err,
                    "n*** Error while saving defconfig to: {}\n\n",
                    f.display()
                )?;
                return Ok(1);
            }
            return Ok(0);
        }
        DropinMode::ListNew | DropinMode::HelpNew => {
            for w in k.unmet_dependencies() {
                err.write_all(w.as_bytes())?;
            }
            return Ok(0);
        }
        _ => {}
    }
    if !no_write {
        let text = k.config_text();
        if std::fs::read_to_string(&config_name).is_ok_and(|old| old == text) {
            message(out, &format!("No change to {config_name}"))?;
        } else {
            if let Some(dir) = Path::new(&config_name).parent() {
                if !dir.as_os_str().is_empty() {
                    let _ = std::fs::create_dir_all(dir);
                }
            }
            if Path::new(&config_name).exists() {
                let _ = std::fs::rename(&config_name, format!("{config_name}.old"));
            }
            if std::fs::write(&config_name, text).is_err() {
                write!(err, "\n*** Error during writing of the configuration.\n\n")?;
                return Ok(1);
            }
            message(out, &format!("configuration written to {config_name}"))?;
        }
    }
    for w in k.unmet_dependencies() {
        err.write_all(w.as_bytes())?;
    }
    let auto_conf = env("KCONFIG_AUTOCONFIG").unwrap_or_else(|| "include/config/auto.conf".into());
    if sync || !Path::new(&auto_conf).exists() {
        if let Err(e) = write_autoconf(k, parsed, &auto_conf, &env) {
            if sync {
                writeln!(err, "{e}")?;
                write!(err, "\n*** Error during sync of the configuration.\n\n")?;
                return Ok(1);
            }
        }
    }
    Ok(0)
}

/// conf's `conf_write_autoconf`: `auto.conf.cmd`, the per-symbol files of the
/// symbols whose value changed since the last `auto.conf`, `autoconf.h`,
/// `rustc_cfg`, and `auto.conf` last.
fn write_autoconf(
    k: &mut Kconfig,
    parsed: &super::parse::Parsed,
    auto_conf: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::io::Result<()> {
    use std::path::Path;
    fn put(path: &str, text: &str) -> std::io::Result<()> {
        if let Some(dir) = Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let tmp = format!("{path}.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }
    let mut cmd = String::from("deps_config := \\\n");
    for f in parsed.inputs.files.iter().rev() {
        cmd.push_str(&format!("\t{f} \\\n"));
    }
    cmd.push_str(&format!("\n{auto_conf}: $(deps_config)\n\n"));
    for (n, v) in &parsed.env {
        cmd.push_str(&format!(
            "ifneq \"$({n})\" \"{v}\"\n{auto_conf}: FORCE\nendif\n"
        ));
    }
    cmd.push_str("\n$(deps_config): ;\n");
    put(&format!("{auto_conf}.cmd"), &cmd)?;
    // conf_touch_deps
    let dir = auto_conf.rfind('/').map_or("", |i| &auto_conf[..=i]);
    let mut old: std::collections::BTreeMap<String, String> = Default::default();
    if let Ok(t) = std::fs::read_to_string(auto_conf) {
        for l in t.lines() {
            if let Some((n, v)) = l.strip_prefix("CONFIG_").and_then(|r| r.split_once('=')) {
                old.insert(n.to_string(), v.to_string());
            }
        }
    }
    let new = k.auto_values();
    let mut touch: Vec<&str> = Vec::new();
    for (n, v) in &new {
        match old.get(n) {
            Some(o) if o == v => {}
            None if v == "n" => {}
            _ => touch.push(n),
        }
    }
    for n in old.keys() {
        if !new.contains_key(n) {
            touch.push(n);
        }
    }
    for n in touch {
        std::fs::write(format!("{dir}{n}"), "")?;
    }
    let header = env("KCONFIG_AUTOHEADER").unwrap_or_else(|| "include/generated/autoconf.h".into());
    put(&header, &k.autoconf_text())?;
    let rust = env("KCONFIG_RUSTCCFG").unwrap_or_else(|| "include/generated/rustc_cfg".into());
    put(&rust, &k.rustc_cfg_text())?;
    put(auto_conf, &k.auto_conf_text())
}
