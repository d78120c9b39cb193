//! parse.rs — turns rule text and rule files into list entries: rsync's
//! `parse_filter_str` (one rule string, possibly several word-split
//! rules), `parse_filter_file` (records, comments, `--from0`), `add_rule`
//! (trailing `/`, anchoring of per-directory rules, wildcard flags) and
//! `parse_merge_name` (where a merge file is opened from), plus the
//! command-line driver `build`.

use crate::listfile::Lines;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

use super::pattern::WildPattern;
use super::rule::{self, Flags};
use super::{
    DirMerge, Entry, ErrorClass, FilterArg, FilterEnv, FilterError, FilterList, Node, Rule, Shared,
    StdinState, cvs,
};

/// rsync's MAXPATHLEN: longer patterns are discarded with a message.
const MAXPATHLEN: usize = 4096;
/// rsync's line buffer (BIGPATHBUFLEN) holds this many bytes of a record.
const MAX_RECORD: usize = MAXPATHLEN + 1024 - 1;
/// rsync 3.5 refuses to open a rule file nested deeper than this (a file
/// that merges itself would otherwise recurse forever).
const MAX_MERGE_DEPTH: usize = 32;

/// rsync's `XFLG_*` parse options.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct XFlags {
    /// `--exclude`/`--include` grammar (`- `/`+ ` prefixes only).
    pub old_prefixes: bool,
    /// A per-directory file: a leading `/` anchors at the file's directory.
    pub anchored2abs: bool,
    /// Failing to open the file ends the run.
    pub fatal: bool,
}

/// Where a rule came from, for messages.
#[derive(Clone, Debug)]
pub(crate) enum Origin {
    /// A command-line argument: messages quote the rule.
    CommandLine,
    /// A rule file. rsync 3.5 describes it by name and line when the file
    /// was named on the command line (or is a per-directory file of a
    /// command-line dir-merge rule); a file named by a rule inside another
    /// file is "a file named at FILE line N", and the files of a dir-merge
    /// rule that itself came from a file are "a file read earlier" — in
    /// both cases without the line number.
    File {
        desc: String,
        direct: bool,
        line: Option<usize>,
    },
}

impl Origin {
    /// The text after `<rule from ` (rsync's origin of this rule).
    fn at_text(&self) -> String {
        match self {
            Origin::CommandLine => String::new(),
            Origin::File {
                desc,
                direct: true,
                line: Some(n),
            } => format!("{desc} line {n}"),
            Origin::File { desc, .. } => desc.clone(),
        }
    }

    fn describe(&self) -> String {
        format!("<rule from {}>", self.at_text())
    }

    /// How a file named by a rule of this origin is described.
    fn child_file(&self, name: &[u8]) -> FileDesc {
        match self {
            Origin::CommandLine => FileDesc {
                desc: show(name),
                direct: true,
            },
            _ => FileDesc {
                desc: format!("a file named at {}", self.at_text()),
                direct: false,
            },
        }
    }

    fn is_file(&self) -> bool {
        matches!(self, Origin::File { .. })
    }
}

/// How messages name a rule file (see [`Origin`]).
#[derive(Clone, Debug)]
pub(crate) struct FileDesc {
    pub desc: String,
    pub direct: bool,
}

/// Bytes as rsync shows them in a message.
pub(crate) fn show(b: &[u8]) -> String {
    crate::text::escape_name(b, crate::text::locale_is_utf8())
}

/// A rule list being built: its own entries, then an inherited tail
/// (per-directory lists only).
#[derive(Debug, Default)]
pub(crate) struct ListBuf {
    pub entries: Vec<Entry>,
    pub inherited: Option<Arc<Node>>,
}

impl ListBuf {
    /// rsync's `!`: drops the local rules and the inherited ones.
    fn clear(&mut self) {
        self.entries.clear();
        self.inherited = None;
    }

    /// The list as an inherited chain.
    pub(super) fn into_node(self) -> Option<Arc<Node>> {
        if self.entries.is_empty() {
            self.inherited
        } else {
            Some(Arc::new(Node {
                entries: self.entries,
                parent: self.inherited,
            }))
        }
    }

    /// Makes the local rules inherited ones (rsync's `lp->tail = NULL`).
    pub(super) fn push_down(&mut self) {
        let entries = std::mem::take(&mut self.entries);
        let me = ListBuf {
            entries,
            inherited: self.inherited.take(),
        };
        self.inherited = me.into_node();
    }
}

/// Lexically cleans a path like rsync's `clean_fname(…,
/// CFN_COLLAPSE_DOT_DOT_DIRS)`: no doubled slashes, no `.` components,
/// `dir/..` collapsed, no trailing slash.
pub(crate) fn clean(p: &[u8]) -> Vec<u8> {
    let abs = p.first() == Some(&b'/');
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in p.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => match parts.last() {
                Some(&l) if l != b".." => {
                    parts.pop();
                }
                _ if abs => {}
                _ => parts.push(c),
            },
            _ => parts.push(c),
        }
    }
    let mut out = Vec::with_capacity(p.len());
    if abs {
        out.push(b'/');
    }
    for (i, c) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(c);
    }
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

/// `p` made absolute against `cwd` (or the process's current directory)
/// and cleaned.
pub(crate) fn absolute(p: &[u8], cwd: Option<&[u8]>) -> Vec<u8> {
    if p.first() == Some(&b'/') {
        return clean(p);
    }
    let mut full = match cwd {
        Some(c) => c.to_vec(),
        None => process_cwd(),
    };
    full.push(b'/');
    full.extend_from_slice(p);
    clean(&full)
}

fn process_cwd() -> Vec<u8> {
    std::env::current_dir()
        .map(|p| p.as_os_str().as_bytes().to_vec())
        .unwrap_or_else(|_| b"/".to_vec())
}

/// The part of `p` after its last `/`.
pub(crate) fn basename(p: &[u8]) -> &[u8] {
    match p.iter().rposition(|&c| c == b'/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

/// Parsing state shared by one command line or one directory's files.
pub(crate) struct Parser<'a> {
    pub shared: &'a Shared,
    pub warnings: &'a mut Vec<String>,
    /// Basenames of the per-directory merge rules already active (rsync
    /// does not add the same merge file twice).
    pub active: Vec<Vec<u8>>,
    /// Per-directory merge rules created by this parse.
    pub new_merges: Vec<Arc<DirMerge>>,
    /// rsync's `dirbuf`: the absolute directory being processed, with a
    /// trailing slash; empty while parsing the command line.
    pub dirbuf: Vec<u8>,
    /// rsync's `parent_dirscan`.
    pub parent_dirscan: bool,
    /// Where relative merge-file names without a slash are opened from
    /// (rsync's working directory: the transfer root during the walk).
    pub base: Vec<u8>,
    /// Building the global list (rsync elides its side-less rules on the
    /// receiver under --delete-excluded; per-directory lists differ).
    pub in_global: bool,
    /// Rule files being read, outermost first (rsync's include depth).
    pub depth: usize,
    /// The process role rsync names in some messages (`client` while the
    /// command line is parsed, `sender` during the walk).
    pub role: &'static str,
}

impl Parser<'_> {
    /// rsync's `parse_filter_str`.
    pub(super) fn parse_str(
        &mut self,
        list: &mut ListBuf,
        s: &[u8],
        template: Flags,
        x: XFlags,
        origin: &Origin,
    ) -> Result<(), FilterError> {
        let mut pos = 0;
        loop {
            let tok = match rule::next_rule(s, &mut pos, template, x.old_prefixes) {
                Ok(Some(t)) => t,
                Ok(None) => return Ok(()),
                Err((kind, start)) => {
                    let msg = match origin {
                        Origin::CommandLine => kind.message(&show(&s[start..])),
                        Origin::File { .. } => kind.message_from_file(&origin.describe()),
                    };
                    return Err(FilterError::syntax(msg));
                }
            };
            let mut flags = tok.flags;
            let pat = tok.pattern;
            if pat.len() >= MAXPATHLEN {
                let what = match origin {
                    Origin::CommandLine => show(pat),
                    Origin::File { .. } => origin.describe(),
                };
                self.warnings
                    .push(format!("discarding over-long filter: {what}"));
                continue;
            }
            if flags.has(Flags::CLEAR_LIST) {
                list.clear();
                continue;
            }
            if flags.has(Flags::MERGE_FILE) {
                let name: &[u8] = if pat.is_empty() { b".cvsignore" } else { pat };
                if flags.has(Flags::EXCLUDE_SELF) {
                    let demotable = self.in_global;
                    self.add_rule(
                        list,
                        basename(name),
                        Flags::NONE,
                        XFlags::default(),
                        demotable,
                        false,
                    );
                    flags.unset(Flags::EXCLUDE_SELF);
                }
                if flags.has(Flags::PERDIR_MERGE) {
                    if self.parent_dirscan {
                        if let Some(p) = self.merge_name(name) {
                            self.add_rule(list, &p, flags, XFlags::default(), false, true);
                        }
                    } else {
                        self.add_rule(list, name, flags, x, false, origin.is_file());
                    }
                    continue;
                }
                if let Some(p) = self.merge_name(name) {
                    let fx = XFlags {
                        fatal: true,
                        ..XFlags::default()
                    };
                    self.parse_file(list, &p, None, None, flags, fx, origin)?;
                }
                continue;
            }
            let demotable = !flags.has(Flags::SIDES);
            self.add_rule(list, pat, flags, x, demotable, origin.is_file());
            if flags.has(Flags::CVS_IGNORE) {
                self.ensure_cvs(flags);
            }
        }
    }

    /// rsync's `parse_merge_name`: a name without a slash is used as it is
    /// (opened from the working directory); others are cleaned and made
    /// relative to the directory being processed. `None` when too long.
    fn merge_name(&mut self, name: &[u8]) -> Option<Vec<u8>> {
        let abs = name.first() == Some(&b'/');
        if !self.parent_dirscan && !abs && !name.contains(&b'/') {
            return Some(name.to_vec());
        }
        let cleaned = clean(name);
        let full = if abs || self.dirbuf.is_empty() {
            cleaned
        } else {
            let mut b = self.dirbuf.clone();
            b.extend_from_slice(&cleaned);
            clean(&b)
        };
        if full.len() >= MAXPATHLEN {
            self.warnings
                .push(format!("merge-file name overflows: {}", show(&full)));
            return None;
        }
        Some(full)
    }

    /// rsync's `parse_filter_file`. `name` is the file as rsync names it;
    /// `open` overrides where it is read from (per-directory files).
    /// `origin` is where the rule naming this file came from; `desc`
    /// overrides how messages describe the file.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn parse_file(
        &mut self,
        list: &mut ListBuf,
        name: &[u8],
        open: Option<&Path>,
        desc: Option<FileDesc>,
        template: Flags,
        x: XFlags,
        origin: &Origin,
    ) -> Result<(), FilterError> {
        if name.is_empty() {
            return Ok(());
        }
        if self.depth >= MAX_MERGE_DEPTH {
            return Err(FilterError(
                format!(
                    "[{}] merge-file include depth limit ({MAX_MERGE_DEPTH}) exceeded at {}",
                    self.role,
                    origin.describe()
                ),
                ErrorClass::DepthLimit,
            ));
        }
        let data = if name == b"-" && open.is_none() {
            self.shared.take_stdin()
        } else {
            let path = match open {
                Some(p) => p.to_path_buf(),
                None if name.first() == Some(&b'/') => Path::new(OsStr::from_bytes(name)).into(),
                None => Path::new(OsStr::from_bytes(&self.base)).join(OsStr::from_bytes(name)),
            };
            let refused = self.shared.walk_links
                && matches!(origin, Origin::CommandLine)
                && crate::sys::trust::follows_untrusted_link(&path);
            let read = match refused {
                true => Err(crate::sys::Errno::LOOP.into()),
                false => read_file(&path, self.shared.from0),
            };
            match read {
                Ok(d) => d,
                Err(e) => {
                    if !x.fatal {
                        return Ok(());
                    }
                    let inex = if template.has(Flags::INCLUDE) {
                        "in"
                    } else {
                        "ex"
                    };
                    return Err(match origin {
                        Origin::CommandLine => FilterError(
                            format!(
                                "[client] failed to open {inex}clude file {}: {}",
                                show(name),
                                crate::sys::io_error_text(&e)
                            ),
                            match refused {
                                true => ErrorClass::Refused,
                                false => ErrorClass::OpenFailed,
                            },
                        ),
                        Origin::File { .. } => FilterError(
                            format!("failed to open {inex}clude file {}", origin.describe()),
                            ErrorClass::OpenFailedInFile,
                        ),
                    });
                }
            }
        };
        self.depth += 1;
        let r = self.parse_records(list, &data, name, desc, template, x, origin);
        self.depth -= 1;
        r
    }

    /// The record loop of `parse_file`.
    #[allow(clippy::too_many_arguments)]
    fn parse_records(
        &mut self,
        list: &mut ListBuf,
        data: &Lines,
        name: &[u8],
        desc: Option<FileDesc>,
        template: Flags,
        x: XFlags,
        origin: &Origin,
    ) -> Result<(), FilterError> {
        let word_split = template.has(Flags::WORD_SPLIT);
        let fd = desc.unwrap_or_else(|| origin.child_file(name));
        for (rec, line) in records(data, word_split) {
            let file_origin = Origin::File {
                desc: fd.desc.clone(),
                direct: fd.direct,
                line: (!word_split).then_some(line),
            };
            if rec.len() > MAX_RECORD {
                self.warnings.push(format!(
                    "discarding over-long filter: {}",
                    file_origin.describe()
                ));
                continue;
            }
            let rec = match rec.iter().position(|&c| c == 0) {
                Some(n) => &rec[..n],
                None => rec,
            };
            if rec.is_empty() || (!word_split && matches!(rec[0], b';' | b'#')) {
                continue;
            }
            self.parse_str(list, rec, template, x, &file_origin)?;
        }
        Ok(())
    }

    /// rsync's `add_rule`.
    fn add_rule(
        &mut self,
        list: &mut ListBuf,
        pat: &[u8],
        flags: Flags,
        x: XFlags,
        demotable: bool,
        from_file: bool,
    ) {
        let mut flags = flags;
        let mut pat = pat;
        if pat.len() > 1 && pat.last() == Some(&b'/') {
            pat = &pat[..pat.len() - 1];
            flags.set(Flags::DIRECTORY);
        }
        let mut pattern = Vec::with_capacity(pat.len());
        if !flags.has(Flags::ABS_PATH)
            && !flags.has(Flags::MERGE_FILE)
            && x.anchored2abs
            && pat.first() == Some(&b'/')
        {
            flags.set(Flags::ABS_PATH);
            let pre = self.dirbuf.len().saturating_sub(1);
            pattern.extend_from_slice(&self.dirbuf[..pre]);
        }
        pattern.extend_from_slice(pat);

        if flags.has(Flags::PERDIR_MERGE) {
            let base = basename(&pattern).to_vec();
            if self.active.contains(&base) {
                return;
            }
            let setup_done = std::sync::atomic::AtomicBool::new(false);
            let d = Arc::new(DirMerge {
                id: self.shared.new_merge_id(),
                flags,
                demotable: self.in_global
                    && flags.has(Flags::NO_PREFIXES)
                    && !flags.has(Flags::SIDES),
                basename: base.clone(),
                name: pattern,
                setup_done,
                from_file,
            });
            self.active.push(base);
            self.new_merges.push(d.clone());
            list.entries.push(Entry::DirMerge(d));
            return;
        }
        if flags.has(Flags::CVS_IGNORE) {
            list.entries.push(Entry::Cvs { flags, demotable });
            return;
        }
        let wild = pattern.iter().any(|&c| matches!(c, b'*' | b'[' | b'?'));
        let wild2 = wild && pattern.windows(2).any(|w| w == b"**");
        let wild2_prefix = wild2 && pattern.starts_with(b"**");
        let wild3_suffix = wild2 && pattern.ends_with(b"***");
        let slash_cnt = pattern.iter().filter(|&&c| c == b'/').count();
        let body = pattern.strip_prefix(b"/").unwrap_or(&pattern);
        let matcher = wild.then(|| WildPattern::new(body));
        list.entries.push(Entry::Rule(Arc::new(Rule {
            flags,
            demotable,
            slash_cnt,
            wild,
            wild2,
            wild2_prefix,
            wild3_suffix,
            matcher,
            pattern,
            from_file,
        })));
    }

    /// rsync's `get_cvs_excludes`: the global CVS list, built once with
    /// the flags of the first `-C` rule.
    fn ensure_cvs(&mut self, flags: Flags) {
        if self.shared.cvs.get().is_some() {
            return;
        }
        let mut buf = ListBuf::default();
        let mut p = Parser {
            shared: self.shared,
            warnings: self.warnings,
            active: Vec::new(),
            new_merges: Vec::new(),
            dirbuf: Vec::new(),
            parent_dirscan: false,
            base: self.base.clone(),
            in_global: true,
            depth: self.depth,
            role: self.role,
        };
        let none = XFlags::default();
        let cl = Origin::CommandLine;
        let _ = p.parse_str(
            &mut buf,
            cvs::DEFAULT_CVSIGNORE,
            flags.with(Flags::PERISHABLE),
            none,
            &cl,
        );
        if let Some(home) = &self.shared.home {
            let mut f = home.clone();
            if f.last() != Some(&b'/') {
                f.push(b'/');
            }
            f.extend_from_slice(b".cvsignore");
            let _ = p.parse_file(&mut buf, &f, None, None, flags, none, &cl);
        }
        if let Some(v) = &self.shared.cvsignore {
            let _ = p.parse_str(&mut buf, v, flags, none, &cl);
        }
        let _ = self.shared.cvs.set(buf.entries);
    }
}

/// Reads a whole rule file. Opening errors are returned; a read error
/// after a successful open ends the file there, as rsync's `getc` loop
/// does (a directory opens but yields nothing).
fn read_file(path: &Path, from0: bool) -> std::io::Result<Lines> {
    let f = std::fs::File::open(path)?;
    read_rules(f, from0)
}

/// The most bytes a line of a rule file keeps: far beyond any record rsync
/// accepts (longer ones are discarded as over-long either way), so that a
/// file that never ends a line (`/dev/zero`) is read in bounded memory.
/// Word-split files share the bound per line.
const MAX_RULE_LINE: usize = 1 << 20;

/// Reads rule-file data to its end, each line cut at [`MAX_RULE_LINE`];
/// a read error ends the data. Empty lines are only counted, for rsync's
/// line numbers (an endless run of them takes no memory).
pub(super) fn read_rules(r: impl std::io::Read, from0: bool) -> std::io::Result<Lines> {
    let how = crate::listfile::ListRead {
        from0,
        cap: MAX_RULE_LINE,
        stop: None,
    };
    how.read(r, true)
}

/// Splits the lines of a rule file into records with their line numbers:
/// word-split files also end records at whitespace. (Empty records are
/// left out: a rule file skips them.)
pub(crate) fn records(lines: &Lines, word_split: bool) -> Vec<(&[u8], usize)> {
    let mut out = Vec::new();
    for (line, n) in lines.iter() {
        if word_split {
            out.extend(
                line.split(|&c| rule::is_space(c))
                    .filter(|w| !w.is_empty())
                    .map(|w| (w, n)),
            );
        } else {
            out.push((line, n));
        }
    }
    out
}

/// Builds the global list from the command line (see `FilterList::build`).
pub(crate) fn build(
    args: &[FilterArg],
    from0: bool,
    env: FilterEnv,
) -> Result<FilterList, FilterError> {
    let cwd = match &env.cwd {
        Some(c) => absolute(c.as_os_str().as_bytes(), None),
        None => clean(&process_cwd()),
    };
    let shared = Arc::new(Shared {
        cwd: cwd.clone(),
        from0,
        stdin: std::sync::Mutex::new(StdinState::Unread(env.stdin)),
        next_merge_id: std::sync::atomic::AtomicUsize::new(0),
        home: env.home.map(|h| h.as_bytes().to_vec()),
        cvsignore: env.cvsignore.map(|h| h.as_bytes().to_vec()),
        walk_links: env.walk_links,
        cvs: std::sync::OnceLock::new(),
    });
    let mut warnings = Vec::new();
    let mut list = ListBuf::default();
    let mut f_count = 0;
    let mut cvs_exclude = false;
    {
        let mut p = Parser {
            shared: &shared,
            warnings: &mut warnings,
            active: Vec::new(),
            new_merges: Vec::new(),
            dirbuf: Vec::new(),
            parent_dirscan: false,
            base: cwd,
            in_global: true,
            depth: 0,
            role: "client",
        };
        let cl = Origin::CommandLine;
        let plain = XFlags::default();
        let old = XFlags {
            old_prefixes: true,
            ..XFlags::default()
        };
        let from = XFlags {
            old_prefixes: true,
            fatal: true,
            ..XFlags::default()
        };
        for a in args {
            // Dedup of dir-merge names looks at what is still listed (a
            // clear drops earlier ones).
            p.active = list
                .entries
                .iter()
                .filter_map(|e| match e {
                    Entry::DirMerge(d) => Some(d.basename.clone()),
                    _ => None,
                })
                .collect();
            match a {
                FilterArg::Filter(s) => {
                    p.parse_str(&mut list, s.as_bytes(), Flags::NONE, plain, &cl)?
                }
                FilterArg::Exclude(s) => {
                    p.parse_str(&mut list, s.as_bytes(), Flags::NONE, old, &cl)?
                }
                FilterArg::Include(s) => {
                    p.parse_str(&mut list, s.as_bytes(), Flags::INCLUDE, old, &cl)?
                }
                FilterArg::ExcludeFrom(f) => {
                    p.parse_file(&mut list, f.as_bytes(), None, None, Flags::NONE, from, &cl)?
                }
                FilterArg::IncludeFrom(f) => p.parse_file(
                    &mut list,
                    f.as_bytes(),
                    None,
                    None,
                    Flags::INCLUDE,
                    from,
                    &cl,
                )?,
                FilterArg::ShortF => {
                    f_count += 1;
                    let r: &[u8] = match f_count {
                        1 => b": /.rsync-filter",
                        2 => b"- .rsync-filter",
                        _ => b"",
                    };
                    p.parse_str(&mut list, r, Flags::NONE, plain, &cl)?;
                }
                FilterArg::CvsExclude => cvs_exclude = true,
            }
        }
        if cvs_exclude {
            // rsync appends these after every other rule, wherever -C was.
            p.active = list
                .entries
                .iter()
                .filter_map(|e| match e {
                    Entry::DirMerge(d) => Some(d.basename.clone()),
                    _ => None,
                })
                .collect();
            p.parse_str(&mut list, b":C", Flags::NONE, plain, &cl)?;
            p.parse_str(&mut list, b"-C", Flags::NONE, plain, &cl)?;
        }
    }
    Ok(FilterList {
        entries: Arc::new(list.entries),
        shared: Some(shared),
        warnings,
    })
}
