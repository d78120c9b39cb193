//! Test support: a transfer driver over any destination (`DestFs`), and
//! the in-memory scene the planner and executor tests run in.

use super::*;
use crate::destfs::mem::Mem;
use crate::sys::mode::{S_IFDIR, S_IFLNK, S_IFREG};

/// Runs `f` with a transfer driver for destination `root` through `fs`
/// (no engine: copies are only counted; output is held, see
/// `Report::held_lines`).
pub(super) fn with_transfer<R>(
    opts: &Options,
    root: DestRoot,
    fs: Arc<dyn DestFs>,
    f: impl FnOnce(&mut Transfer<'_>) -> R,
) -> R {
    let recv = Receiver::for_options(opts);
    let (attrs, _) = meta::RunAttrs::new(opts, &recv);
    let mut report = Report::new("arsync", opts);
    report.reserve();
    let setup = Setup {
        opts,
        recv: &recv,
        attrs: &attrs,
        report: &mut report,
        flow: Flow::new(Arc::new(AtomicBool::new(false))),
        walk_cfg: WalkConfig::new(opts),
        fs,
    };
    let deleter = setup.deleter(&root);
    let planner = Planner {
        opts,
        recv: &recv,
        basis: opts.basis.clone(),
        attrs: &attrs,
        fs: setup.fs.clone(),
        temp_climbs: None,
    };
    let mut t = Transfer {
        ctx: RunCtx {
            opts,
            recv: &recv,
            attrs: &attrs,
            planner,
            root,
            fs: setup.fs,
            temp_refused: false,
        },
        report: setup.report,
        flow: setup.flow,
        copies: Copies::new(None),
        dirs: DirState::default(),
        lister: Lister {
            scanner: Scanner::start(setup.walk_cfg, dest_need(opts)),
            merge_setup_pending: false,
            dest_in_src: false,
            early_deletes: false,
            prelisted: Default::default(),
        },
        disposal: Disposal {
            deleter,
            backup: None,
            delayed: Vec::new(),
            warned_io: false,
            in_pass: false,
            removed: Default::default(),
        },
        hlinks: Hlinks::default(),
    };
    f(&mut t)
}

/// `-lpt --devices --specials`, changed by `set`: the executor tests'
/// options.
pub(super) fn options(set: impl FnOnce(&mut Options)) -> Options {
    let mut opts = Options {
        links: true,
        perms: true,
        times: true,
        devices: true,
        specials: true,
        ..Options::default()
    };
    set(&mut opts);
    opts
}

/// Where the in-memory scene's destination and sources lie: below a path
/// that does not exist, so that a real system call fails.
pub(super) const DST: &str = "/nonexistent-arsync-mem/dst";
pub(super) const SRC: &str = "/nonexistent-arsync-mem/src";
pub(super) const BASIS: &str = "/nonexistent-arsync-mem/basis";

/// An in-memory destination (and sources) with the run's options.
pub(super) struct Scene {
    pub mem: Arc<Mem>,
    pub opts: Options,
}

impl Scene {
    /// `-rlpt --devices --specials` (changed by `set`), an empty
    /// destination and source directory.
    pub(super) fn new(set: impl FnOnce(&mut Options)) -> Scene {
        let opts = options(|o| {
            o.recursive = crate::options::Recurse::Explicit;
            set(o);
        });
        let mem = Arc::new(Mem::with_root(Path::new(DST)));
        for d in [SRC, BASIS] {
            mem.put(Path::new(d), S_IFDIR | 0o755, b"");
        }
        mem.take_ops();
        Scene { mem, opts }
    }

    pub(super) fn dest(&self, name: &str) -> PathBuf {
        Path::new(DST).join(name)
    }

    /// Puts an item at the destination (mode with type bits; a file's
    /// bytes or a link's target); its stat.
    pub(super) fn put_dest(&self, name: &str, mode: u32, data: &[u8]) -> Stat {
        self.mem.put(&self.dest(name), mode, data)
    }

    /// A source entry `name` (mode with type bits, mtime, bytes or link
    /// target), also put in the scene for `-c` and basis reads.
    pub(super) fn entry(&self, name: &str, mode: u32, mtime: i64, data: &[u8]) -> Entry {
        let src = Path::new(SRC).join(name);
        let mut st = self.mem.put(&src, mode, data);
        st.mtime = mtime;
        st.uid = 1000;
        st.gid = 1000;
        self.mem.edit(&src, |n| n.st = st);
        let mut e = Entry::new(name.as_bytes().to_vec(), st, src);
        if mode & crate::sys::mode::S_IFMT == S_IFLNK {
            e.rare_mut().link = Some(data.to_vec());
        }
        e
    }

    /// A regular file entry with mode 0644.
    pub(super) fn file(&self, name: &str, mtime: i64, data: &[u8]) -> Entry {
        self.entry(name, S_IFREG | 0o644, mtime, data)
    }

    /// Runs `f` with a driver over the scene.
    pub(super) fn run<R>(&self, f: impl FnOnce(&mut Transfer<'_>) -> R) -> R {
        let root = DestRoot {
            at: DirAt::Path(PathBuf::from(DST)),
            path: PathBuf::from(DST),
        };
        with_transfer(&self.opts, root, self.mem.clone(), f)
    }

    /// Looks at, decides and executes entry `e` as the transfer does
    /// (hard-link groups included); the action decided, what comes next,
    /// and the output held.
    pub(super) fn handle(&self, e: &Entry) -> Handled {
        let dest = self.dest(std::str::from_utf8(&e.name).unwrap_or_default());
        self.run(|t| {
            let item = t.look(e, &dest, Known::Unknown, false);
            let Some(item) = item else {
                return Handled {
                    action: None,
                    next: Next::Stop,
                    effect: Effect::None,
                    lines: t.report.held_lines(),
                };
            };
            let d = item.decide(&t.ctx.planner);
            let (next, effect) = t.execute(&item, &d, false);
            Handled {
                action: Some(d.action),
                next,
                effect,
                lines: t.report.held_lines(),
            }
        })
    }
}

/// What [`Scene::handle`] saw.
pub(super) struct Handled {
    pub action: Option<Action>,
    pub next: Next,
    pub effect: Effect,
    pub lines: Vec<String>,
}
