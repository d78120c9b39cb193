//! The man page, the shell completions and the `--version` texts,
//! generated from the option table (`spec::SPECS`).
//!
//! A `clap::Command` is built from the table only to feed clap_mangen and
//! clap_complete; arsync's parser stays `cli::parse`. Options arsync
//! implements are documented under OPTIONS; every other rsync option is
//! listed under "OPTIONS HANDED OVER TO RSYNC" (the command line then runs
//! the system rsync). The generated files live in `man/`; `tests/docs.rs`
//! fails when they are stale and `cargo run --example gen-docs` rewrites
//! them.

use std::io::Write;

use clap::builder::PossibleValuesParser;
use clap::{Arg as ClapArg, ArgAction, Command, ValueHint};
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, italic, roman};

use super::help::{PROTOCOL, RSYNC_COMPAT, VERSION};
use super::spec::{self, Arg, Id, Name, Spec};

/// Heading of the options that make arsync run the system rsync.
pub const HANDED_OVER_HEADING: &str = "Options handed over to rsync";

const ABOUT: &str = "fast, rsync-compatible copier for local files (io_uring)";

const LONG_ABOUT: &str = "arsync copies local trees with rsync's command line, rsync's \
result on disk, rsync's output and rsync's exit codes, moving file content through \
io_uring with many files in flight at once. It can replace rsync for local copies: \
alias rsync=arsync, or install it on PATH as rsync; it prints its messages under the \
name it was invoked as.\n\n\
A command line arsync does not implement itself (a remote source or destination such \
as host:path, user@host:path, host::module or rsync://host/module, --server, --daemon, \
any option in the section OPTIONS HANDED OVER TO RSYNC) is handed \
over to the system rsync found on PATH: arsync replaces itself with it, so output and \
exit code are rsync's. Set ARSYNC_NO_FALLBACK=1 (or use --no-fallback) \
to get a usage error instead.";

/// The `clap::Command` describing arsync's command line, for the
/// generators.
pub fn command() -> Command {
    let mut cmd = Command::new("arsync")
        .version(VERSION)
        .about(ABOUT)
        .long_about(LONG_ABOUT)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .override_usage("arsync [OPTION]... SRC [SRC]... DEST");
    for (spec, o) in spec::spellings() {
        let Some(help) = o.help else { continue };
        cmd = cmd.arg(clap_arg(spec, o, help));
    }
    cmd.arg(
        ClapArg::new("SRC")
            .value_name("SRC")
            .num_args(1..)
            .required(true)
            .value_hint(ValueHint::AnyPath)
            .help("source files and directories (a trailing / copies a directory's contents)"),
    )
    .arg(
        ClapArg::new("DEST")
            .value_name("DEST")
            .required(true)
            .value_hint(ValueHint::AnyPath)
            .help("destination"),
    )
}

fn clap_arg(spec: &Spec, o: &Name, help: &'static str) -> ClapArg {
    let id = match (o.long, o.short) {
        (Some(l), _) => l.to_string(),
        (None, Some(s)) => format!("short-{s}"),
        (None, None) => "unnamed".to_string(),
    };
    let mut a = ClapArg::new(id).help(help);
    if let Some(l) = o.long {
        a = a.long(l);
    }
    if let Some(s) = o.short {
        a = a.short(s);
    }
    a = match o.arg {
        Arg::None => a.action(ArgAction::SetTrue),
        Arg::Str | Arg::Int => {
            let name = if o.value_name.is_empty() {
                "VALUE"
            } else {
                o.value_name
            };
            let hint = match name {
                "DIR" => ValueHint::DirPath,
                "FILE" => ValueHint::FilePath,
                "PROGRAM" | "COMMAND" => ValueHint::CommandString,
                _ => ValueHint::Other,
            };
            a.action(ArgAction::Append)
                .value_name(name)
                .num_args(1)
                .require_equals(o.long.is_some())
                .value_hint(hint)
        }
    };
    if let Some(values) = o.long.and_then(completion_values) {
        a = a
            .value_parser(PossibleValuesParser::new(values))
            .hide_possible_values(true);
    }
    if !spec.supported() {
        a = a.help_heading(HANDED_OVER_HEADING);
    }
    a
}

/// The values the completions offer after `--NAME=`, from the tables the
/// parser checks them against. `--info`/`--debug` take comma lists of
/// `FLAG` or `FLAGlevel`; each flag is offered (and `progress2`, the
/// level people type most).
fn completion_values(long: &str) -> Option<Vec<String>> {
    let lower = |flags: &[&str], extra: &[&str]| -> Vec<String> {
        let names = flags.iter().map(|f| f.to_ascii_lowercase());
        names.chain(extra.iter().map(|s| s.to_string())).collect()
    };
    let list = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
    let owned = |names: &mut dyn Iterator<Item = &str>| names.map(str::to_string).collect();
    Some(match long {
        "info" => lower(super::INFO_FLAGS, &["progress2", "all", "none", "help"]),
        "debug" => lower(super::DEBUG_FLAGS, &["all", "none", "help"]),
        "copy-engine" => owned(&mut crate::options::EngineChoice::names()),
        "checksum-choice" | "cc" => list(super::CHECKSUM_NAMES),
        "compress-choice" | "zc" => list(super::COMPRESS_NAMES),
        "stderr" => owned(&mut crate::options::StderrMode::names()),
        _ => return None,
    })
}

/// The exit codes arsync uses, with rsync's descriptions.
const EXIT_CODES: &[(i32, &str)] = &[
    (0, "Success."),
    (1, "Syntax or usage error, including a refused hand-over."),
    (3, "Errors selecting input/output files, dirs."),
    (4, "Requested action not supported."),
    (11, "Error in file I/O."),
    (14, "Error in IPC code."),
    (20, "Received SIGINT, SIGTERM, or SIGHUP."),
    (22, "Error allocating core memory buffers."),
    (
        23,
        "Partial transfer due to error: some files/attrs were not transferred.",
    ),
    (
        24,
        "Partial transfer due to vanished source files (a warning, not an error).",
    ),
    (25, "The --max-delete limit stopped deletions."),
];

/// Where arsync's output differs from rsync's by nature: the byte counts
/// (`--help` and the man page say it in these words).
pub const BYTE_COUNTS: &str = "Byte counts: a local copy has no protocol stream, so \
\"sent N bytes  received N bytes\" and --stats' \"Total bytes sent\", \"Total bytes \
received\" and \"File list size\" are arsync's estimate (the file data plus a fixed \
overhead per file), not rsync's count of its pipe between its two processes (which adds \
its file-list encoding and checksums, compressed under -z); they differ from rsync's. \
Every other figure (files, sizes, literal data, speedup's total size) is rsync's.";

/// Environment variables arsync reads.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "ARSYNC_NO_FALLBACK",
        "When set to anything but empty or 0, a command line arsync does not implement is \
         refused with a usage error (exit code 1) instead of being handed over to the \
         system rsync.",
    ),
    (
        "ARSYNC_THREADS",
        "Number of io_uring worker threads (default: two per core, between 2 and 16).",
    ),
    (
        "ARSYNC_LANES",
        "Number of file copies each worker keeps in flight (default: 16).",
    ),
    (
        "ARSYNC_DEPTH, ARSYNC_CHUNK_KIB",
        "Pieces of one large file in flight on the pipelined copy engines (default: 8), \
         and the size of each piece in KiB (default: 256).",
    ),
    (
        "LC_ALL, LC_CTYPE, LANG",
        "As for rsync: under a UTF-8 locale, valid multibyte characters in names are \
         printed as they are; otherwise non-ASCII bytes are printed as \\#ooo escapes.",
    ),
];

fn section(roff: &mut Roff, title: &str) {
    roff.control("SH", [title]);
}

fn para(roff: &mut Roff, text: &str) {
    roff.control("PP", []);
    roff.text([roman(text)]);
}

fn tagged(roff: &mut Roff, tag: &str, text: &str) {
    roff.control("TP", []);
    roff.text([bold(tag)]);
    roff.text([roman(text)]);
}

/// The man page (roff), `man/arsync.1`.
pub fn man_page() -> String {
    let man = Man::new(command());
    // The title line is written by hand: roff drops an empty (date)
    // argument instead of quoting it, and a fixed date keeps the
    // generated page reproducible.
    let mut out: Vec<u8> =
        format!(".TH ARSYNC 1 \"\" \"arsync {VERSION}\" \"User Commands\"\n").into_bytes();
    let mut head = Roff::new();
    section(&mut head, "NAME");
    head.text([roman(format!("arsync - {ABOUT}"))]);
    section(&mut head, "SYNOPSIS");
    head.text([
        bold("arsync"),
        roman(" ["),
        italic("OPTION"),
        roman("]... "),
        italic("SRC"),
        roman(" ["),
        italic("SRC"),
        roman("]... "),
        italic("DEST"),
    ]);
    let _ = head.to_writer(&mut out);
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);

    let mut tail = Roff::new();
    section(&mut tail, "HAND-OVER TO RSYNC");
    para(
        &mut tail,
        "arsync looks for rsync in each directory of PATH and skips any candidate that is \
         arsync itself (same device and inode as the running program), so arsync can be \
         installed as rsync. With -v it first prints \"arsync: handing over to PATH \
         (REASON)\" on standard error. Without a system rsync the command fails with exit \
         code 1.",
    );
    section(&mut tail, "BYTE COUNTS");
    para(&mut tail, BYTE_COUNTS);
    section(&mut tail, "EXIT STATUS");
    para(
        &mut tail,
        "arsync exits with rsync's codes and ends a failed run with rsync's \"rsync error: \
         ... (code N)\" line:",
    );
    for (code, text) in EXIT_CODES {
        tagged(&mut tail, &code.to_string(), text);
    }
    section(&mut tail, "ENVIRONMENT");
    for (name, text) in ENVIRONMENT {
        tagged(&mut tail, name, text);
    }
    section(&mut tail, "SEE ALSO");
    tail.text([
        bold("rsync"),
        roman("(1), "),
        bold("rsyncd.conf"),
        roman("(5). rsync's manual is the specification of every option above."),
    ]);
    section(&mut tail, "VERSION");
    tail.text([roman(format!(
        "arsync {VERSION}, reproducing rsync protocol version {PROTOCOL}."
    ))]);
    let _ = tail.to_writer(&mut out);
    // Each roff fragment starts with the same apostrophe preamble; keep
    // the first one only, at the top.
    let text = String::from_utf8_lossy(&out).into_owned();
    let preamble = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    let body = text.replace(preamble, "");
    format!("{preamble}{body}")
}

/// A shell completion script.
pub fn completion(shell: Shell) -> String {
    let mut cmd = command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "arsync", &mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    match shell {
        Shell::Bash => text.replacen(BASH_PREV, BASH_PREV_EQUALS, 1),
        _ => text,
    }
}

/// clap's bash script looks at the previous word for an option's values,
/// but bash splits `--info=pro` at the `=` (COMP_WORDBREAKS): the word
/// before `pro` is `=`, and before that `--info`. rsync's options are
/// written `--NAME=VALUE`, so the script looks past the `=`.
const BASH_PREV: &str = "    prev=\"$3\"\n";
const BASH_PREV_EQUALS: &str = "    prev=\"$3\"
    # --NAME=VALUE: bash splits the word at '=' (arsync's addition).
    if [[ ${cur} == \"=\" ]]; then
        cur=\"\"
        prev=\"${COMP_WORDS[COMP_CWORD-1]}\"
    elif [[ ${prev} == \"=\" && ${COMP_CWORD} -ge 2 ]]; then
        prev=\"${COMP_WORDS[COMP_CWORD-2]}\"
    fi
";

/// Every generated file, as (path relative to the repository, contents).
pub fn generated_files() -> Vec<(&'static str, String)> {
    vec![
        ("man/arsync.1", man_page()),
        ("man/completions/arsync.bash", completion(Shell::Bash)),
        ("man/completions/_arsync", completion(Shell::Zsh)),
        ("man/completions/arsync.fish", completion(Shell::Fish)),
    ]
}

/// The capabilities as rsync prints them (`name` is true, `no name`
/// false, `64-bit files` a number), derived from what arsync implements
/// ([`Spec::supported`]) so the list stays true as options are added.
fn capabilities() -> Vec<String> {
    let has = |id: Id, name: &str| {
        if id.supported() {
            name.to_string()
        } else {
            format!("no {name}")
        }
    };
    vec![
        "64-bit files".into(),
        "64-bit inums".into(),
        "64-bit timestamps".into(),
        "64-bit long ints".into(),
        // Local copies only: no socket pair between processes.
        "no socketpairs".into(),
        has(Id::Links, "symlinks"),
        has(Id::Times, "symtimes"),
        has(Id::HardLinks, "hardlinks"),
        has(Id::HardLinks, "hardlink-specials"),
        has(Id::HardLinks, "hardlink-symlinks"),
        "no IPv6".into(),
        has(Id::Atimes, "atimes"),
        has(Id::WriteBatch, "batchfiles"),
        has(Id::Inplace, "inplace"),
        has(Id::Append, "append"),
        has(Id::Acls, "ACLs"),
        // rsync 3.5: ACLs are set on the entry held by a handle (its
        // directory's, through /proc/self/fd), not by a path a symlink
        // swapped in could redirect; arsync sets them the same way.
        has(Id::Acls, "ACL-at"),
        has(Id::Xattrs, "xattrs"),
        if Id::SecludedArgs.supported() {
            "optional secluded-args".into()
        } else {
            "no secluded-args".into()
        },
        has(Id::Iconv, "iconv"),
        has(Id::Preallocate, "prealloc"),
        has(Id::StopAt, "stop-at"),
        has(Id::Crtimes, "crtimes"),
    ]
}

const OPTIMIZATIONS: &[&str] = &["io_uring", "copy_file_range"];

/// `-c` compares content directly; no transfer checksums or compression.
const CHECKSUM_LIST: &[&str] = &["none"];
const COMPRESS_LIST: &[&str] = &["none"];

/// The `--version` text: rsync's layout (first line `NAME  version X
/// protocol version 32`, which version parsers match, with the rsync
/// version whose behaviour arsync reproduces), then plainly what this is.
pub fn version_text(name: &str) -> String {
    let mut s = format!("{name}  version {RSYNC_COMPAT}  protocol version {PROTOCOL}\n");
    s.push_str(&format!(
        "This is arsync {VERSION}, not rsync; it copies local files as rsync \
         {RSYNC_COMPAT}.\n"
    ));
    s.push_str("Copyright (C) 2026 the arsync developers.\n");
    s.push_str("Web site: https://github.com/arsync/arsync\n");
    s.push_str(&info_flags(false));
    s.push_str(&format!(
        "Checksum list:\n    {}\n",
        CHECKSUM_LIST.join(" ")
    ));
    s.push_str(&format!(
        "Compress list:\n    {}\n",
        COMPRESS_LIST.join(" ")
    ));
    s.push_str(&format!(
        "\n{name} comes with ABSOLUTELY NO WARRANTY.  It copies local files; other\n\
         command lines are handed over to the system rsync.\n"
    ));
    s
}

/// The `-VV` text: rsync's JSON object (same keys and layout as
/// `rsync -VV`), with arsync's facts and `"program"` set to `name`.
pub fn version_json(name: &str) -> String {
    let mut s = String::new();
    let line = |s: &mut String, first: bool, k: &str, v: &str| {
        s.push_str(&format!(
            "{}\n  \"{}\": \"{}\"",
            if first { '{' } else { ',' },
            k,
            json_escape(v)
        ));
    };
    line(&mut s, true, "program", name);
    line(&mut s, false, "version", RSYNC_COMPAT);
    line(&mut s, false, "protocol", &format!("{PROTOCOL}.0"));
    line(
        &mut s,
        false,
        "copyright",
        "(C) 2026 the arsync developers.",
    );
    line(&mut s, false, "url", "https://github.com/arsync/arsync");
    line(&mut s, false, "arsync_version", VERSION);
    s.push_str(&info_flags(true));
    for (key, list) in [
        ("checksum_list", CHECKSUM_LIST),
        ("compress_list", COMPRESS_LIST),
    ] {
        s.push_str(&format!(",\n  \"{key}\": [\n   "));
        let items: Vec<String> = list.iter().map(|t| format!(" \"{t}\"")).collect();
        s.push_str(&items.join(","));
        s.push_str("\n  ]");
    }
    // rsync also prints "license"; arsync's license is not declared in Cargo.toml yet.
    line(
        &mut s,
        false,
        "caveat",
        &format!("{name} comes with ABSOLUTELY NO WARRANTY"),
    );
    s.push_str("\n}\n");
    s
}

fn json_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

/// rsync's `print_info_flags()`: `Capabilities:` / `Optimizations:` with
/// items packed into lines shorter than 75 bytes, or the JSON objects.
fn info_flags(json: bool) -> String {
    let mut out = String::new();
    let caps = capabilities();
    let caps: Vec<&str> = caps.iter().map(String::as_str).collect();
    let groups: [(&str, &[&str]); 2] = [("Capabilities", &caps), ("Optimizations", OPTIMIZATIONS)];
    let mut opened = false;
    for (title, items) in groups {
        if json {
            if opened {
                out.push_str("  }");
            }
            opened = true;
            out.push_str(&format!(",\n  \"{}\": {{\n", title.to_lowercase()));
        } else {
            out.push_str(&format!("{title}:\n"));
        }
        let mut line = String::new();
        for (j, item) in items.iter().enumerate() {
            let comma = if j + 1 < items.len() { "," } else { "" };
            let text = if json {
                json_item(item, comma)
            } else {
                format!(" {item}{comma}")
            };
            if !line.is_empty() && line.len() + text.len() >= 75 {
                out.push_str(&format!("   {line}\n"));
                line.clear();
            }
            line.push_str(&text);
        }
        if !line.is_empty() {
            out.push_str(&format!("   {line}\n"));
        }
    }
    if json && opened {
        out.push_str("  }");
    }
    out
}

/// ` "name": true`, ` "file_bits": 64`, ` "secluded_args": "optional"`.
fn json_item(item: &str, comma: &str) -> String {
    let (key, val) = match item.split_once(' ') {
        None => (item.to_string(), "true".to_string()),
        Some(("no", rest)) => (rest.to_string(), "false".to_string()),
        Some((first, rest)) if first.starts_with(|c: char| c.is_ascii_digit()) => {
            let bits = first.split('-').next().unwrap_or(first);
            // "64-bit files" -> "file_bits": 64
            let noun = rest.trim_end_matches('s');
            (format!("{noun}_bits"), bits.to_string())
        }
        Some((first, rest)) => (rest.to_string(), format!("\"{first}\"")),
    };
    let key = key.replace([' ', '-'], "_");
    format!(" \"{key}\": {val}{comma}")
}

/// Writes every generated file under `root` (the repository).
pub fn write_all(root: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    for (rel, text) in generated_files() {
        let p = root.join(rel);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::File::create(&p)?;
        f.write_all(text.as_bytes())?;
        written.push(p);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn man_page_documents_options_and_sections() {
        let m = man_page();
        assert!(
            m.starts_with(".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.TH ARSYNC 1 \"\" \"arsync ")
        );
        assert_eq!(m.matches(".ds Aq").count(), 2);
        for s in [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH DESCRIPTION",
            ".SH OPTIONS",
            ".SH \"OPTIONS HANDED OVER TO RSYNC\"",
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            "ARSYNC_NO_FALLBACK",
            "ARSYNC_THREADS",
            "ARSYNC_LANES",
        ] {
            assert!(m.contains(s), "missing {s}");
        }
        // A supported option comes before the handed-over section, an
        // unsupported one after it.
        let cut = m.find("OPTIONS HANDED OVER TO RSYNC\"").unwrap();
        let verbose = m.find("increase verbosity").unwrap();
        let batch = m.find("write a batched update to FILE");
        assert!(verbose < cut);
        assert!(
            batch.is_some_and(|b| b > cut),
            "batch files are handed over"
        );
    }

    #[test]
    fn completions_know_the_options() {
        let bash = completion(Shell::Bash);
        assert!(bash.contains("--verbose"));
        assert!(bash.contains("--temp-dir"));
        let zsh = completion(Shell::Zsh);
        assert!(zsh.starts_with("#compdef arsync"));
        let fish = completion(Shell::Fish);
        assert!(fish.contains("-l verbose"));
        // Values after --NAME=, from the parser's own tables.
        for (opt, value) in [
            ("info", "progress2"),
            ("debug", "filter"),
            ("copy-engine", "write-managed"),
            ("checksum-choice", "xxh128"),
            ("stderr", "client"),
        ] {
            let at = bash.find(&format!("--{opt})")).expect(opt);
            let line = bash[at..].lines().nth(1).unwrap_or_default();
            assert!(line.contains(value), "--{opt}: {line}");
        }
        assert!(bash.contains(BASH_PREV_EQUALS));
    }

    #[test]
    fn version_first_line_and_layout() {
        let v = version_text("rsync");
        assert_eq!(
            v.lines().next(),
            Some(format!("rsync  version {RSYNC_COMPAT}  protocol version 32").as_str())
        );
        assert_eq!(
            v.lines().nth(1),
            Some(
                format!(
                    "This is arsync {VERSION}, not rsync; it copies local files as rsync {RSYNC_COMPAT}."
                )
                .as_str()
            )
        );
        assert!(v.contains("\nCapabilities:\n    64-bit files, 64-bit inums,"));
        assert!(v.contains(" ACLs,") && v.contains(" xattrs,"), "{v}");
        assert!(!v.contains("no ACLs") && !v.contains("no xattrs"), "{v}");
        for l in v.lines() {
            assert!(l.len() < 80, "{l}");
        }
    }

    #[test]
    fn version_json_has_rsyncs_shape() {
        let j = version_json("arsync");
        assert!(j.starts_with("{\n  \"program\": \"arsync\",\n  \"version\": \""));
        assert!(j.contains(",\n  \"protocol\": \"32.0\""));
        assert!(j.contains(",\n  \"capabilities\": {\n    \"file_bits\": 64, \"inum_bits\": 64,"));
        assert!(j.contains("\"symlinks\": true"));
        assert!(j.contains("\"hardlinks\": true"));
        assert!(j.contains("\"secluded_args\": \"optional\""));
        assert!(j.contains("\"inplace\": true"));
        assert!(j.contains("\"ACLs\": true"));
        assert!(j.contains("\"xattrs\": true"));
        assert!(j.contains("  },\n  \"optimizations\": {\n    \"io_uring\": true"));
        assert!(j.contains(",\n  \"checksum_list\": [\n    \"none\"\n  ]"));
        assert!(j.ends_with("\n}\n"));
        // Balanced and parseable by a minimal check: no trailing commas.
        assert!(!j.contains(",\n  }") && !j.contains(",\n}"));
        assert_eq!(j.matches('{').count(), j.matches('}').count());
    }

    // rsync's own layout for its capability items, as `rsync -VV` prints
    // them (checked against rsync 3.5.0's JSON item text).
    #[test]
    fn json_items_like_rsync() {
        assert_eq!(json_item("64-bit files", ","), " \"file_bits\": 64,");
        assert_eq!(
            json_item("64-bit long ints", ","),
            " \"long_int_bits\": 64,"
        );
        assert_eq!(json_item("no crtimes", ""), " \"crtimes\": false");
        assert_eq!(
            json_item("hardlink-specials", ","),
            " \"hardlink_specials\": true,"
        );
        assert_eq!(
            json_item("optional secluded-args", ","),
            " \"secluded_args\": \"optional\","
        );
    }
}
