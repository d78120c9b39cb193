//! rsync's filter rules (--filter, --exclude, --include, the *-from files,
//! -F, -C and merge files): parsing the command line into a rule list,
//! reading per-directory merge files as the walk descends, and deciding
//! for each name whether the sender hides it or the receiver protects it.
//!
//! Layout: `rule` parses one rule token, `pattern` matches wildcards,
//! `parse` turns rule text and rule files into entries (rsync's
//! `parse_filter_str`/`parse_filter_file`/`add_rule`), `merge` holds the
//! per-directory merge-file state (`push_local_filters`), `cvs` the -C
//! defaults and `size` the --max-size/--min-size syntax. Every behaviour
//! follows rsync 3.5.0, checked against it (see compat/pending/filters.scn).

mod cvs;
mod merge;
mod parse;
mod pattern;
mod rule;
mod size;

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pattern::WildPattern;
use rule::Flags;

pub use size::{parse_size, parse_size_with};

/// For the fuzz target: checks that the two wildcard engines agree.
#[doc(hidden)]
pub use pattern::check_engines_agree;

/// One command-line filter item, in command-line order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterArg {
    /// `-f`/`--filter RULE`
    Filter(OsString),
    /// `--exclude PATTERN`
    Exclude(OsString),
    /// `--include PATTERN`
    Include(OsString),
    /// `--exclude-from FILE` (`-` = stdin)
    ExcludeFrom(OsString),
    /// `--include-from FILE` (`-` = stdin)
    IncludeFrom(OsString),
    /// One `-F`.
    ShortF,
    /// `-C`/`--cvs-exclude`.
    CvsExclude,
}

/// A filter error that ends the run.
///
/// `.0` (and `Display`) is the message exactly as rsync prints it after the
/// program-name prefix when there is one: rsync prints rule syntax errors
/// bare (`Unknown filter rule: x foo`) but file-open errors with a prefix
/// (`rsync: [client] failed to open exclude file F: … (2)`); see
/// [`FilterError::prefixed`] and [`FilterError::exit_code`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String, pub ErrorClass);

/// How rsync reports a [`FilterError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A malformed rule: printed without a prefix, exit 1 (RERR_SYNTAX).
    Syntax,
    /// A merge/--*-from file named on the command line could not be opened:
    /// printed as `rsync: [client] failed to open …`, exit 11 (RERR_FILEIO).
    OpenFailed,
    /// A merge file named inside a rule file could not be opened: printed
    /// without a prefix (`failed to open exclude file <rule from F line N>`),
    /// exit 11.
    OpenFailedInFile,
    /// A rule file named on the command line leads through a symlink of
    /// an untrusted user (rsync 3.5's ownership walk): its refusal line,
    /// then as `OpenFailed` with `ELOOP`.
    Refused,
    /// More than 32 nested rule files (`[ROLE] merge-file include depth
    /// limit (32) exceeded at …`): no prefix, exit 11.
    DepthLimit,
}

impl FilterError {
    fn syntax(msg: String) -> FilterError {
        FilterError(msg, ErrorClass::Syntax)
    }

    /// rsync's exit code for this error: 1 (syntax) or 11 (file I/O).
    pub fn exit_code(&self) -> i32 {
        match self.1 {
            ErrorClass::Syntax => 1,
            ErrorClass::OpenFailed
            | ErrorClass::Refused
            | ErrorClass::OpenFailedInFile
            | ErrorClass::DepthLimit => 11,
        }
    }

    /// Whether rsync prints `PROGNAME: ` before the message.
    pub fn prefixed(&self) -> bool {
        matches!(self.1, ErrorClass::OpenFailed | ErrorClass::Refused)
    }

    /// The same error as printed by another rsync process: messages made
    /// during the walk name the `sender`; the receiver's delete pass is
    /// rsync's `generator`.
    pub fn for_role(mut self, role: &str) -> FilterError {
        for r in ["[client] ", "[sender] "] {
            if let Some(rest) = self.0.strip_prefix(r) {
                self.0 = format!("[{role}] {rest}");
                break;
            }
        }
        self
    }

    /// The stderr line as rsync prints it (without the final
    /// `rsync error: …` line).
    pub fn line(&self, prog: &str) -> String {
        if self.1 == ErrorClass::Refused {
            format!("{}\n{prog}: {}", crate::sys::trust::REFUSAL, self.0)
        } else if self.prefixed() {
            format!("{prog}: {}", self.0)
        } else {
            self.0.clone()
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FilterError {}

/// Where the process-dependent inputs of filter parsing come from: the
/// current directory (relative merge-file names), `$HOME/.cvsignore` and
/// `$CVSIGNORE` (for -C) and standard input (`-` as a file name). Tests
/// and the fuzzer supply their own.
#[derive(Clone, Debug, Default)]
pub struct FilterEnv {
    /// Directory relative file names are opened from; `None` = the
    /// process's current directory.
    pub cwd: Option<PathBuf>,
    /// `$HOME`.
    pub home: Option<OsString>,
    /// `$CVSIGNORE`.
    pub cvsignore: Option<OsString>,
    /// What `-` reads; `None` = the real standard input.
    pub stdin: Option<Vec<u8>>,
    /// rsync 3.5's ownership walk of the rule files named on the command
    /// line (see `sys::trust`); off with `--insecure-links`.
    pub walk_links: bool,
}

impl FilterEnv {
    /// The real process environment.
    pub fn from_process() -> FilterEnv {
        FilterEnv {
            cwd: None,
            home: std::env::var_os("HOME"),
            cvsignore: std::env::var_os("CVSIGNORE"),
            stdin: None,
            walk_links: true,
        }
    }
}

/// Shared, process-wide inputs of one filter setup.
#[derive(Debug)]
struct Shared {
    /// Absolute, cleaned current directory (rsync's initial `curr_dir`).
    cwd: Vec<u8>,
    /// Records of `*-from` and merge files are NUL-separated (`--from0`).
    from0: bool,
    /// Standard input: read whole on first use; later reads see EOF, as
    /// rsync's further `getc(stdin)` calls do.
    stdin: Mutex<StdinState>,
    /// Source of unique ids for per-directory merge rules.
    next_merge_id: std::sync::atomic::AtomicUsize,
    /// `$HOME` (for `~/.cvsignore`).
    home: Option<Vec<u8>>,
    /// `$CVSIGNORE`.
    cvsignore: Option<Vec<u8>>,
    /// See [`FilterEnv::walk_links`].
    walk_links: bool,
    /// The global CVS list (`-C`), built once at the first `-C` rule with
    /// that rule's flags (rsync's `get_cvs_excludes`).
    cvs: std::sync::OnceLock<Vec<Entry>>,
}

#[derive(Debug)]
enum StdinState {
    Unread(Option<Vec<u8>>),
    Consumed,
}

impl Shared {
    fn take_stdin(&self) -> crate::listfile::Lines {
        let mut st = match self.stdin.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match std::mem::replace(&mut *st, StdinState::Consumed) {
            StdinState::Unread(Some(v)) => {
                parse::read_rules(&v[..], self.from0).unwrap_or_default()
            }
            StdinState::Unread(None) => {
                parse::read_rules(std::io::stdin().lock(), self.from0).unwrap_or_default()
            }
            StdinState::Consumed => Default::default(),
        }
    }

    fn new_merge_id(&self) -> usize {
        self.next_merge_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// An include/exclude rule, ready to match.
#[derive(Debug)]
struct Rule {
    /// INCLUDE, ABS_PATH, NEGATE, DIRECTORY, PERISHABLE, XATTR, sides.
    flags: Flags,
    /// Dropped on the receiver under --delete-excluded (rsync turns
    /// side-less rules into sender rules then).
    demotable: bool,
    /// The pattern as rsync stores it (trailing `/` removed, per-directory
    /// anchored rules prefixed with the file's absolute directory).
    pattern: Vec<u8>,
    /// Number of `/` in `pattern`.
    slash_cnt: usize,
    /// Has `*`, `?` or `[`.
    wild: bool,
    /// Has `**`.
    wild2: bool,
    /// Starts with `**`.
    wild2_prefix: bool,
    /// Ends with `***` (and has `**`): also matches the directory itself.
    wild3_suffix: bool,
    /// Compiled form of the pattern without its leading `/` (wild only).
    matcher: Option<WildPattern>,
    /// Read from a file: rsync 3.5's `-vv` lines then show
    /// `<rule from a file read earlier>` instead of the pattern.
    from_file: bool,
}

/// A per-directory merge rule (`:`): its files are read in every
/// directory the walk enters.
#[derive(Debug)]
struct DirMerge {
    id: usize,
    /// The rule's flags: the template for the rules read from its files.
    flags: Flags,
    demotable: bool,
    /// The name as given (may hold slashes; see `merge::setup`).
    name: Vec<u8>,
    /// The file name read in each directory.
    basename: Vec<u8>,
    /// rsync's FINISH_SETUP: the parent-directory scan happens once, at
    /// the first directory entered by any stack.
    setup_done: std::sync::atomic::AtomicBool,
    /// The rule was read from a file (messages then call its files "a
    /// file read earlier").
    from_file: bool,
}

/// One element of a rule list.
#[derive(Debug, Clone)]
enum Entry {
    Rule(Arc<Rule>),
    /// `-C` (not a merge): consult the global CVS list here.
    Cvs {
        flags: Flags,
        demotable: bool,
    },
    /// `:`: consult the current rules of this per-directory merge file.
    DirMerge(Arc<DirMerge>),
}

/// Which side is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Sender,
    Receiver { delete_excluded: bool },
}

/// Whether a rule with these flags takes part on `side` (rsync removes
/// the other side's rules from each process's list).
fn applies(flags: Flags, demotable: bool, side: Side) -> bool {
    let (s, r) = (flags.has(Flags::SENDER), flags.has(Flags::RECEIVER));
    match side {
        Side::Sender => s || !r,
        Side::Receiver { delete_excluded } => {
            if r {
                true
            } else if s {
                false
            } else {
                !(delete_excluded && demotable)
            }
        }
    }
}

/// The global rule list built from the command line.
#[derive(Clone, Debug, Default)]
pub struct FilterList {
    entries: Arc<Vec<Entry>>,
    shared: Option<Arc<Shared>>,
    warnings: Vec<String>,
}

impl FilterList {
    /// Builds the list; `from0`: *-from files are NUL-separated. The -F
    /// count semantics (-F = dir-merge /.rsync-filter, -FF also excludes
    /// .rsync-filter) and -C (default CVS patterns + $CVSIGNORE +
    /// ~/.cvsignore + per-dir .cvsignore) as rsync.
    /// `insecure_links`: rule files are opened without rsync 3.5's
    /// ownership walk.
    pub fn build(
        args: &[FilterArg],
        from0: bool,
        insecure_links: bool,
    ) -> Result<FilterList, FilterError> {
        let env = FilterEnv {
            walk_links: !insecure_links,
            ..FilterEnv::from_process()
        };
        FilterList::build_with(args, from0, env)
    }

    /// [`FilterList::build`] with explicit process inputs.
    pub fn build_with(
        args: &[FilterArg],
        from0: bool,
        env: FilterEnv,
    ) -> Result<FilterList, FilterError> {
        parse::build(args, from0, env)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Non-fatal messages from parsing (rsync's `discarding over-long
    /// filter: …`), to print to stderr as they are (no prefix; the exit
    /// code is unaffected).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether any `x` rule was given (rsync's `saw_xattr_filter`: the
    /// rules then replace -X's namespace limits).
    pub fn has_xattr_rules(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e, Entry::Rule(r) if r.flags.has(Flags::XATTR)))
    }

    /// Whether any rule needs per-directory merge files read (the walk can
    /// skip `enter` calls otherwise).
    pub fn has_dir_merge(&self) -> bool {
        self.entries.iter().any(|e| matches!(e, Entry::DirMerge(_)))
    }
}

/// A list of entries with an inherited tail (rsync's per-directory lists:
/// the current directory's rules, then the parents').
#[derive(Debug)]
struct Node {
    entries: Vec<Entry>,
    parent: Option<Arc<Node>>,
}

/// The rules in effect in one directory: the global list plus the
/// per-directory merge files read so far (inherited unless `n`). Cheap to
/// clone (Arc inside) so a listing can happen on another thread.
#[derive(Clone, Debug)]
pub struct FilterStack {
    inner: Arc<StackInner>,
}

#[derive(Clone, Debug)]
struct StackInner {
    list: FilterList,
    /// Absolute path of the transfer root (rsync's `curr_dir`), cleaned,
    /// without a trailing slash ("/" for the root directory).
    root: Vec<u8>,
    /// Whether `root` was given or derived from an `enter` (otherwise it
    /// is the current directory, rsync's default for sources without a
    /// trailing slash).
    root_known: bool,
    /// Active per-directory merge files and their current rules.
    merges: Vec<merge::MergeState>,
}

impl FilterStack {
    /// The transfer root's stack (no merge files read yet). The root is
    /// taken to be the current directory until the first `enter` tells
    /// otherwise; see [`FilterStack::new_at`].
    pub fn new(list: FilterList) -> FilterStack {
        let cwd = list
            .shared
            .as_ref()
            .map(|s| s.cwd.clone())
            .unwrap_or_else(|| b"/".to_vec());
        FilterStack::make(list, cwd, false)
    }

    /// The transfer root's stack with the transfer root's directory given
    /// (what rsync has `chdir`ed to: `SRC` for `SRC/`, the parent for
    /// `SRC`; the destination directory on the receiver). Only rules with
    /// the `/` modifier and anchored per-directory rules look at it.
    pub fn new_at(list: FilterList, root: &Path) -> FilterStack {
        let cwd = list.shared.as_ref().map(|s| s.cwd.clone());
        let abs = parse::absolute(root.as_os_str().as_bytes(), cwd.as_deref());
        FilterStack::make(list, abs, true)
    }

    fn make(list: FilterList, root: Vec<u8>, root_known: bool) -> FilterStack {
        let merges = list
            .entries
            .iter()
            .filter_map(|e| match e {
                Entry::DirMerge(d) => Some(merge::MergeState::new(d.clone())),
                _ => None,
            })
            .collect();
        FilterStack {
            inner: Arc::new(StackInner {
                list,
                root,
                root_known,
                merges,
            }),
        }
    }

    /// The stack for a child directory: reads that directory's
    /// per-directory merge files (dir-merge rules in effect) from
    /// `real_dir` (the source directory on disk). `rel_dir` is the
    /// directory's path relative to the transfer root ("" for the root).
    /// Errors (unreadable merge file etc.) come back as messages, rsync's
    /// text.
    ///
    /// A fatal error (a malformed rule in a merge file: rsync exits) is
    /// returned as the last message and the parent's rules stay in effect;
    /// use [`FilterStack::try_enter`] to tell fatal errors apart.
    pub fn enter(&self, rel_dir: &[u8], real_dir: &Path) -> (FilterStack, Vec<String>) {
        match self.try_enter(rel_dir, real_dir) {
            Ok(r) => r,
            Err(e) => (self.clone(), vec![e.0]),
        }
    }

    /// [`FilterStack::enter`], with fatal errors (rsync stops the transfer:
    /// exit 1 for a bad rule, 11 for a merge file that cannot be opened)
    /// separate from the non-fatal messages.
    pub fn try_enter(
        &self,
        rel_dir: &[u8],
        real_dir: &Path,
    ) -> Result<(FilterStack, Vec<String>), FilterError> {
        merge::enter(self, rel_dir, real_dir)
    }

    /// Sender side: is this entry excluded from the transfer
    /// (exclude/include, hide/show, and their modifiers)? `rel_path` is
    /// relative to the transfer root (e.g. b"sub/file" or for `src` without
    /// slash b"src/sub/file"), `is_dir` its type.
    pub fn excluded(&self, rel_path: &[u8], is_dir: bool) -> bool {
        self.check(rel_path, is_dir, Side::Sender, false) == Some(false)
    }

    /// Receiver side, for --delete: is this destination entry protected
    /// from deletion (protect/risk rules, and exclude rules that apply to
    /// the receiver side unless `delete_excluded`)?
    pub fn protected(&self, rel_path: &[u8], is_dir: bool, delete_excluded: bool) -> bool {
        self.protected_ex(rel_path, is_dir, delete_excluded, false)
    }

    /// [`FilterStack::protected`] for the contents of a directory that is
    /// itself being deleted: rsync then ignores perishable (`p`) rules, so
    /// that e.g. -C's `*.o` does not keep a removed directory alive.
    pub fn protected_ex(
        &self,
        rel_path: &[u8],
        is_dir: bool,
        delete_excluded: bool,
        ignore_perishable: bool,
    ) -> bool {
        self.check(
            rel_path,
            is_dir,
            Side::Receiver { delete_excluded },
            ignore_perishable,
        ) == Some(false)
    }

    /// For -X: is this extended-attribute name excluded by the `x` rules
    /// (`-f '-x user.*'`)? Only `x` rules take part, and they never take
    /// part in file-name checks. `receiver` selects the side, as for file
    /// names (rsync checks on both when copying and when deleting xattrs).
    pub fn xattr_excluded(&self, name: &[u8], receiver: bool, delete_excluded: bool) -> bool {
        let side = if receiver {
            Side::Receiver { delete_excluded }
        } else {
            Side::Sender
        };
        self.check_with(name, false, side, false, true) == Some(false)
    }

    /// First matching rule: `Some(true)` include, `Some(false)` exclude,
    /// `None` no rule matched.
    fn check(
        &self,
        rel_path: &[u8],
        is_dir: bool,
        side: Side,
        ignore_perishable: bool,
    ) -> Option<bool> {
        let name = rel_path.strip_prefix(b"/").unwrap_or(rel_path);
        if name == b"." {
            return None;
        }
        self.check_with(name, is_dir, side, ignore_perishable, false)
    }

    fn check_with(
        &self,
        name: &[u8],
        is_dir: bool,
        side: Side,
        ignore_perishable: bool,
        xattr: bool,
    ) -> Option<bool> {
        self.query(name, is_dir, side, ignore_perishable, xattr, false)
            .map(|(include, _)| include)
    }

    fn query(
        &self,
        name: &[u8],
        is_dir: bool,
        side: Side,
        ignore_perishable: bool,
        xattr: bool,
        want_why: bool,
    ) -> Option<(bool, Vec<u8>)> {
        if name.is_empty() {
            return None;
        }
        let q = Query {
            name,
            is_dir,
            side,
            ignore_perishable,
            xattr,
            root: &self.inner.root,
            stack: &self.inner,
            want_why,
            why: std::cell::RefCell::new(Vec::new()),
        };
        let r = q.check_list(self.inner.list.entries.iter(), b"")?;
        Some((r, q.why.into_inner()))
    }

    /// The sender's verdict on `rel_path` with the deciding rule as rsync's
    /// `-vv` names it (`PATTERN[/][ [per-dir NAME]]`): `Some((true, why))`
    /// shown, `Some((false, why))` hidden, `None` no rule matched. For the
    /// `[sender] hiding file X because of pattern Y` lines.
    pub fn sender_verdict(&self, rel_path: &[u8], is_dir: bool) -> Option<(bool, Vec<u8>)> {
        let name = rel_path.strip_prefix(b"/").unwrap_or(rel_path);
        if name == b"." {
            return None;
        }
        self.query(name, is_dir, Side::Sender, false, false, true)
    }

    /// [`FilterStack::sender_verdict`] for the receiver (`protecting` /
    /// `risking` lines of a deletion).
    pub fn receiver_verdict(
        &self,
        rel_path: &[u8],
        is_dir: bool,
        delete_excluded: bool,
        ignore_perishable: bool,
    ) -> Option<(bool, Vec<u8>)> {
        let name = rel_path.strip_prefix(b"/").unwrap_or(rel_path);
        if name == b"." {
            return None;
        }
        let side = Side::Receiver { delete_excluded };
        self.query(name, is_dir, side, ignore_perishable, false, true)
    }
}

/// One name being checked against the rules.
struct Query<'a> {
    name: &'a [u8],
    is_dir: bool,
    side: Side,
    ignore_perishable: bool,
    /// Checking an xattr name: only `x` rules apply.
    xattr: bool,
    root: &'a [u8],
    stack: &'a StackInner,
    /// Record the deciding rule's description in `why`.
    want_why: bool,
    why: std::cell::RefCell<Vec<u8>>,
}

impl Query<'_> {
    /// `debug`: the list's tag in rsync's messages (`""`, ` [global
    /// CVS]`, ` [per-dir NAME]`).
    fn check_list<'e>(
        &self,
        entries: impl Iterator<Item = &'e Entry>,
        debug: &[u8],
    ) -> Option<bool> {
        for e in entries {
            let r = match e {
                Entry::Rule(rule) => {
                    if !self.usable(rule.flags, rule.demotable) {
                        continue;
                    }
                    if self.rule_matches(rule) {
                        if self.want_why {
                            let mut w = if rule.from_file {
                                b"<rule from a file read earlier>".to_vec()
                            } else {
                                let mut w = rule.pattern.clone();
                                if rule.flags.has(Flags::DIRECTORY) {
                                    w.push(b'/');
                                }
                                w
                            };
                            w.extend_from_slice(debug);
                            *self.why.borrow_mut() = w;
                        }
                        return Some(rule.flags.has(Flags::INCLUDE));
                    }
                    continue;
                }
                Entry::Cvs { flags, demotable } => {
                    if !self.usable(*flags, *demotable) {
                        continue;
                    }
                    match self.stack.list.shared.as_ref().and_then(|s| s.cvs.get()) {
                        Some(cvs) => self.check_list(cvs.iter(), b" [global CVS]"),
                        None => None,
                    }
                }
                Entry::DirMerge(d) => {
                    if !self.usable(d.flags, d.demotable) {
                        continue;
                    }
                    match self.stack.merges.iter().find(|m| m.rule.id == d.id) {
                        Some(m) => {
                            let mut tag = Vec::new();
                            if self.want_why {
                                tag.extend_from_slice(b" [per-dir ");
                                tag.extend_from_slice(&m.rule.basename);
                                tag.push(b']');
                            }
                            self.check_node(m.rules.as_deref(), &tag)
                        }
                        None => None,
                    }
                }
            };
            if r.is_some() {
                return r;
            }
        }
        None
    }

    fn check_node(&self, mut node: Option<&Node>, debug: &[u8]) -> Option<bool> {
        while let Some(n) = node {
            if let Some(r) = self.check_list(n.entries.iter(), debug) {
                return Some(r);
            }
            node = n.parent.as_deref();
        }
        None
    }

    fn usable(&self, flags: Flags, demotable: bool) -> bool {
        if self.ignore_perishable && flags.has(Flags::PERISHABLE) {
            return false;
        }
        applies(flags, demotable, self.side)
    }

    /// rsync's `rule_matches()`.
    fn rule_matches(&self, rule: &Rule) -> bool {
        if rule.flags.has(Flags::XATTR) != self.xattr {
            return false;
        }
        let hit = !rule.flags.has(Flags::NEGATE);
        let mut name = self.name;
        // The strings rsync concatenates before matching.
        let mut prefix: Vec<u8> = Vec::new();
        if rule.slash_cnt == 0 && !rule.wild2 {
            if let Some(p) = name.iter().rposition(|&c| c == b'/') {
                name = &name[p + 1..];
            }
        } else if rule.flags.has(Flags::ABS_PATH) && self.root.len() > 1 {
            prefix.extend_from_slice(&self.root[1..]);
            prefix.push(b'/');
        } else if rule.wild2_prefix {
            prefix.push(b'/');
        }
        let mut suffix_slash = false;
        if self.is_dir {
            if rule.wild3_suffix {
                suffix_slash = true;
            }
        } else if rule.flags.has(Flags::DIRECTORY) {
            return !hit;
        }
        let pieces = 1 + usize::from(!prefix.is_empty()) + usize::from(suffix_slash);
        let anchored = rule.pattern.first() == Some(&b'/');
        let pat = if anchored {
            &rule.pattern[1..]
        } else {
            &rule.pattern[..]
        };
        let where_: i64 = if !anchored && rule.slash_cnt > 0 && !rule.wild2 {
            rule.slash_cnt as i64 + 1
        } else if !anchored && !rule.wild2_prefix && rule.wild2 {
            -1
        } else {
            0
        };
        let matched = if rule.wild || pieces > 1 {
            let text: std::borrow::Cow<[u8]> = if pieces == 1 {
                std::borrow::Cow::Borrowed(name)
            } else {
                let mut t = prefix;
                t.extend_from_slice(name);
                if suffix_slash {
                    t.push(b'/');
                }
                std::borrow::Cow::Owned(t)
            };
            match &rule.matcher {
                Some(m) => match_array(&text, where_, |t| m.is_match(t)),
                None => match_array(&text, where_, |t| t == pat),
            }
        } else if anchored {
            name == pat
        } else {
            let (l1, l2) = (name.len(), pat.len());
            l2 <= l1 && &name[l1 - l2..] == pat && (l1 == l2 || name[l1 - l2 - 1] == b'/')
        };
        if matched { hit } else { !hit }
    }
}

/// rsync's `wildmatch_array`/`litmatch_array` over the concatenated text:
/// `where_ > 0` matches only the last `where_` path elements (and fails
/// when there are fewer), `-1` tries the start and after every slash, `0`
/// only the start.
fn match_array(text: &[u8], where_: i64, m: impl Fn(&[u8]) -> bool) -> bool {
    if where_ > 0 {
        let mut count = where_;
        for (i, &c) in text.iter().enumerate().rev() {
            if c == b'/' {
                count -= 1;
                if count == 0 {
                    return m(&text[i + 1..]);
                }
            }
        }
        count == 1 && m(text)
    } else if where_ < 0 {
        if m(text) {
            return true;
        }
        text.iter()
            .enumerate()
            .any(|(i, &c)| c == b'/' && m(&text[i + 1..]))
    } else {
        m(text)
    }
}
