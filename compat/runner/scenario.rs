//! scenario.rs — parses `.scn` scenario files into `Scenario` values (the suite's data format).
//!
//! Format (one or more scenarios per file):
//! ```text
//! ### scenario-name          # starts a scenario; names are unique across files
//! # comment
//! setup: bash line run in T/work before the snapshot (lib.sh is sourced)
//! umask: 077                 # optional, umask for run:/sh: steps (default 022)
//! compare: atime blocks      # optional extra tree comparisons (regular files)
//! needs: root mknod          # optional: skipped (and counted) unless run as root; says why
//! run: -av src/ dst/         # tool arguments, bash-quoted
//! sh: echo more >> src/a     # bash snippet between runs
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Invoke the tool (rsync or arsync) with these bash-quoted arguments.
    Run,
    /// A bash snippet mutating the tree between runs.
    Sh,
}

impl StepKind {
    pub fn key(self) -> &'static str {
        match self {
            StepKind::Run => "run",
            StepKind::Sh => "sh",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    pub text: String,
    pub line: usize,
}

/// Opt-in comparisons beyond the default set (`compare: atime blocks`), regular files only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// Access time (same freshness rule as mtime).
    pub atime: bool,
    /// Allocated blocks (`st_blocks`), e.g. for `--sparse` / `--preallocate`.
    pub blocks: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub name: String,
    /// File the scenario came from (as given to the parser) and the line of its `###`.
    pub file: PathBuf,
    pub line: usize,
    pub setup: Vec<String>,
    pub umask: Option<u32>,
    pub extras: Extras,
    /// `needs: root WHY`: the reason the scenario can only run as root.
    pub needs_root: Option<String>,
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Name of the group (file stem, e.g. `10-paths`) used as the test-name prefix.
    pub fn group(&self) -> String {
        self.file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn test_name(&self) -> String {
        format!("{}::{}", self.group(), self.name)
    }

    pub fn location(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }

    pub fn umask_or_default(&self) -> u32 {
        self.umask.unwrap_or(0o022)
    }
}

/// A parse error, always carrying `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub file: PathBuf,
    pub line: usize,
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.msg)
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Parse the text of one `.scn` file. `file` is only used for locations.
pub fn parse(file: &Path, text: &str) -> Result<Vec<Scenario>, ParseError> {
    let err = |line: usize, msg: String| ParseError {
        file: file.to_path_buf(),
        line,
        msg,
    };
    let mut out: Vec<Scenario> = Vec::new();
    let mut cur: Option<Scenario> = None;

    fn finish(
        cur: Option<Scenario>,
        out: &mut Vec<Scenario>,
        file: &Path,
    ) -> Result<(), ParseError> {
        if let Some(s) = cur {
            if !s.steps.iter().any(|st| st.kind == StepKind::Run) {
                return Err(ParseError {
                    file: file.to_path_buf(),
                    line: s.line,
                    msg: format!("scenario `{}` has no `run:` line", s.name),
                });
            }
            if let Some(prev) = out.iter().find(|p| p.name == s.name) {
                return Err(ParseError {
                    file: file.to_path_buf(),
                    line: s.line,
                    msg: format!(
                        "duplicate scenario name `{}` (first defined at line {})",
                        s.name, prev.line
                    ),
                });
            }
            out.push(s);
        }
        Ok(())
    }

    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("###") {
            finish(cur.take(), &mut out, file)?;
            // The name is the first token; anything after `#` is a comment.
            let rest = rest.split('#').next().unwrap_or("").trim();
            let mut toks = rest.split_whitespace();
            let name = toks.next().unwrap_or("");
            if name.is_empty() {
                return Err(err(lineno, "`###` without a scenario name".into()));
            }
            if !valid_name(name) {
                return Err(err(
                    lineno,
                    format!("invalid scenario name `{name}` (allowed: A-Z a-z 0-9 - _ .)"),
                ));
            }
            if let Some(extra) = toks.next() {
                return Err(err(
                    lineno,
                    format!("unexpected text `{extra}` after scenario name (use `# comment`)"),
                ));
            }
            cur = Some(Scenario {
                name: name.to_string(),
                file: file.to_path_buf(),
                line: lineno,
                setup: Vec::new(),
                umask: None,
                extras: Extras::default(),
                needs_root: None,
                steps: Vec::new(),
            });
            continue;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            return Err(err(
                lineno,
                format!(
                    "expected `key: value` (keys: setup, umask, compare, needs, run, sh), got `{trimmed}`"
                ),
            ));
        };
        let key = key.trim();
        let value = value.trim();
        let Some(s) = cur.as_mut() else {
            return Err(err(
                lineno,
                format!("`{key}:` line before the first `### name` line"),
            ));
        };
        if value.is_empty() {
            return Err(err(lineno, format!("empty `{key}:` line")));
        }
        match key {
            "setup" => {
                if !s.steps.is_empty() {
                    return Err(err(
                        lineno,
                        "`setup:` after a `run:`/`sh:` step (use `sh:` to change the tree between runs)"
                            .into(),
                    ));
                }
                s.setup.push(value.to_string());
            }
            "umask" => {
                if s.umask.is_some() {
                    return Err(err(lineno, "duplicate `umask:` line".into()));
                }
                let tok = value.split('#').next().unwrap_or("").trim();
                let parsed = u32::from_str_radix(tok, 8)
                    .ok()
                    .filter(|m| *m <= 0o777 && !tok.is_empty());
                match parsed {
                    Some(m) => s.umask = Some(m),
                    None => {
                        return Err(err(
                            lineno,
                            format!("invalid umask `{tok}` (octal, e.g. 077)"),
                        ));
                    }
                }
            }
            "compare" => {
                let words = value.split('#').next().unwrap_or("");
                for w in words.split_whitespace() {
                    match w {
                        "atime" => s.extras.atime = true,
                        "blocks" => s.extras.blocks = true,
                        other => {
                            return Err(err(
                                lineno,
                                format!("unknown comparison `{other}` (known: atime, blocks)"),
                            ));
                        }
                    }
                }
            }
            "needs" => {
                let why = value.strip_prefix("root ").map(str::trim);
                match why {
                    Some(why) if !why.is_empty() => s.needs_root = Some(why.to_string()),
                    _ => {
                        return Err(err(
                            lineno,
                            format!("expected `needs: root WHY`, got `needs: {value}`"),
                        ));
                    }
                }
            }
            "run" | "sh" => {
                let kind = if key == "run" {
                    StepKind::Run
                } else {
                    StepKind::Sh
                };
                s.steps.push(Step {
                    kind,
                    text: value.to_string(),
                    line: lineno,
                });
            }
            other => {
                return Err(err(
                    lineno,
                    format!("unknown key `{other}:` (keys: setup, umask, compare, needs, run, sh)"),
                ));
            }
        }
    }
    finish(cur.take(), &mut out, file)?;
    Ok(out)
}

/// Result of loading a scenario directory: the good scenarios, plus one error per bad file
/// (or per duplicate name across files).
pub struct Loaded {
    pub scenarios: Vec<Scenario>,
    pub errors: Vec<ParseError>,
}

/// Load every `*.scn` in `dir` (sorted by file name). `display_base` is stripped from paths
/// shown in messages so they read `compat/scenarios/10-paths.scn:12`.
pub fn load_dir(dir: &Path, display_base: &Path) -> Loaded {
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    let mut files: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "scn"))
            .collect(),
        Err(e) => {
            errors.push(ParseError {
                file: dir.to_path_buf(),
                line: 0,
                msg: format!("cannot read scenario directory: {e}"),
            });
            return Loaded { scenarios, errors };
        }
    };
    files.sort();
    if files.is_empty() {
        errors.push(ParseError {
            file: dir.to_path_buf(),
            line: 0,
            msg: "no *.scn files found".into(),
        });
    }
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for path in files {
        let shown = path
            .strip_prefix(display_base)
            .unwrap_or(&path)
            .to_path_buf();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(ParseError {
                    file: shown,
                    line: 0,
                    msg: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        match parse(&shown, &text) {
            Ok(list) => {
                for s in list {
                    if let Some(first) = seen.get(&s.name) {
                        errors.push(ParseError {
                            file: s.file.clone(),
                            line: s.line,
                            msg: format!(
                                "duplicate scenario name `{}` (first defined at {first})",
                                s.name
                            ),
                        });
                        continue;
                    }
                    seen.insert(s.name.clone(), s.location());
                    scenarios.push(s);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    Loaded { scenarios, errors }
}
