//! The executors (and the hard-link wrapper around them) against the
//! in-memory destination (`destfs::mem`): each action's changes, in
//! order, its item line and its failures in rsync's words. The scene lies
//! below a path that does not exist, so an executor that went around
//! `DestFs` would fail here.

use super::testkit::{BASIS, DST, Scene};
use super::*;
use crate::destfs::Op;
use crate::sys::mode::{S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG};

const T: i64 = 1_600_000_000;

fn dst(name: &str) -> PathBuf {
    Path::new(DST).join(name)
}

/// The changes since the scene was set, without temp names' randomness:
/// a temp name shows as `TMP`.
fn ops(s: &Scene) -> Vec<String> {
    let show = |p: &Path| {
        let rel = p
            .strip_prefix(DST)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned();
        if rel.contains(".~tmp~") || rel.starts_with('.') && rel.len() > 8 {
            "TMP".to_string()
        } else {
            rel
        }
    };
    s.mem
        .take_ops()
        .iter()
        .map(|op| match op {
            Op::Mkdir(p) => format!("mkdir {}", show(p)),
            Op::Symlink(p) => format!("symlink {}", show(p)),
            Op::Mknod(p) => format!("mknod {}", show(p)),
            Op::Link(p) => format!("link {}", show(p)),
            Op::Unlink(p) => format!("unlink {}", show(p)),
            Op::Rmdir(p) => format!("rmdir {}", show(p)),
            Op::Rename(a, b) => format!("rename {} {}", show(a), show(b)),
            Op::Chmod(p) => format!("chmod {}", show(p)),
        })
        .collect()
}

/// A regular file `name` in the basis directory, with the time and owner
/// the scene's source entries get; its path.
fn basis_file(s: &Scene, name: &str, perms: u32, data: &[u8]) -> PathBuf {
    let path = Path::new(BASIS).join(name);
    s.mem.put(&path, S_IFREG | perms, data);
    s.mem.edit(&path, |n| {
        n.st.mtime = T;
        (n.st.uid, n.st.gid) = (1000, 1000);
    });
    path
}

fn itemized() -> Scene {
    Scene::new(|o| o.itemize = 1)
}

#[test]
fn dir_new_is_made_with_its_mode_and_entered() {
    let s = itemized();
    let e = s.entry("d", S_IFDIR | 0o750, T, b"");
    let h = s.handle(&e);
    assert!(matches!(h.action, Some(Action::Dir { exists: false, .. })));
    assert_eq!(h.next, Next::Descend { fresh: true });
    assert_eq!(ops(&s), ["mkdir d"]);
    let st = s.mem.get(&dst("d")).unwrap().st;
    assert_eq!(st.mode, S_IFDIR | 0o750);
    assert_eq!(st.mtime, T);
    assert_eq!(h.lines, ["cd+++++++++ d/"]);
}

#[test]
fn dir_over_a_file_clears_the_way_first() {
    let s = itemized();
    s.put_dest("d", S_IFREG | 0o644, b"old");
    let e = s.entry("d", S_IFDIR | 0o755, T, b"");
    let h = s.handle(&e);
    assert_eq!(h.next, Next::Descend { fresh: true });
    assert_eq!(ops(&s), ["unlink d", "mkdir d"]);
    assert_eq!(s.mem.get(&dst("d")).unwrap().st.kind(), Kind::Dir);
}

#[test]
fn dir_that_cannot_be_made_skips_its_contents() {
    let s = itemized();
    s.mem.fail(&dst("d"), Errno::ACCESS);
    let e = s.entry("d", S_IFDIR | 0o755, T, b"");
    let h = s.handle(&e);
    assert_eq!(h.next, Next::CountOnly);
    assert!(ops(&s).is_empty());
    let msg = format!(
        "E: arsync: [generator] recv_generator: mkdir \"{DST}/d\" failed: Permission denied (13)"
    );
    assert!(h.lines.contains(&msg), "{:?}", h.lines);
    assert!(
        h.lines
            .contains(&"E: *** Skipping any contents from this failed directory ***".to_string())
    );
}

#[test]
fn dir_existing_only_gets_its_attributes() {
    let s = itemized();
    s.put_dest("d", S_IFDIR | 0o700, b"");
    let e = s.entry("d", S_IFDIR | 0o755, T, b"");
    let h = s.handle(&e);
    assert_eq!(h.next, Next::Descend { fresh: false });
    // Attributes are no change of an entry: no mkdir, and the mode set.
    assert!(ops(&s).is_empty());
    let st = s.mem.get(&dst("d")).unwrap().st;
    assert_eq!((st.mode, st.mtime), (S_IFDIR | 0o755, T));
    assert_eq!(h.lines, [".d..tp..... d/"]);
}

#[test]
fn attrs_of_an_up_to_date_file_are_set_without_a_copy() {
    let s = itemized();
    let old = s.put_dest("a", S_IFREG | 0o600, b"same");
    s.mem.edit(&dst("a"), |n| n.st.mtime = T);
    let e = s.file("a", T, b"same");
    let h = s.handle(&e);
    assert!(matches!(h.action, Some(Action::Attrs { .. })));
    assert_eq!(h.effect, exec::Effect::Done { xattr_stale: false });
    let st = s.mem.get(&dst("a")).unwrap().st;
    assert_eq!(st.mode, S_IFREG | 0o644);
    assert_eq!(st.ino, old.ino);
    assert_eq!(h.lines, [".f...p..... a"]);
}

#[test]
fn skip_leaves_the_destination_alone() {
    let s = Scene::new(|o| {
        o.ignore_existing = true;
        o.itemize = 1;
    });
    s.put_dest("a", S_IFREG | 0o644, b"old");
    let e = s.file("a", T, b"new content");
    let h = s.handle(&e);
    assert!(matches!(h.action, Some(Action::Skip(SkipWhy::Exists))));
    assert_eq!(h.effect, exec::Effect::Skipped);
    assert!(ops(&s).is_empty());
    assert_eq!(s.mem.get(&dst("a")).unwrap().data, b"old");
    assert!(h.lines.is_empty());
}

#[test]
fn symlink_new_is_made_with_its_target() {
    let s = itemized();
    let e = s.entry("l", S_IFLNK | 0o777, T, b"t/x");
    let h = s.handle(&e);
    assert_eq!(h.effect, exec::Effect::Done { xattr_stale: false });
    assert_eq!(ops(&s), ["symlink l"]);
    assert_eq!(s.mem.get(&dst("l")).unwrap().data, b"t/x");
    assert_eq!(h.lines, ["cL+++++++++ l -> t/x"]);
}

#[test]
fn symlink_replaces_a_file_atomically() {
    let s = itemized();
    s.put_dest("l", S_IFREG | 0o644, b"old");
    let e = s.entry("l", S_IFLNK | 0o777, T, b"t/x");
    s.handle(&e);
    // Made under a temp name, then renamed over the file: the name
    // never goes missing.
    assert_eq!(ops(&s), ["symlink TMP", "rename TMP l"]);
    assert_eq!(s.mem.get(&dst("l")).unwrap().st.kind(), Kind::Symlink);
    assert_eq!(s.mem.names(Path::new(DST)), ["l"]);
}

#[test]
fn symlink_failure_is_reported_and_leaves_no_temp() {
    let s = itemized();
    s.mem.fail(&dst("l"), Errno::ACCESS);
    let e = s.entry("l", S_IFLNK | 0o777, T, b"t/x");
    let h = s.handle(&e);
    assert_eq!(h.effect, exec::Effect::None);
    let msg = format!(
        "E: arsync: [generator] symlink \"{DST}/l\" -> \"t/x\" failed: Permission denied (13)"
    );
    assert!(h.lines.contains(&msg), "{:?}", h.lines);
    assert!(s.mem.names(Path::new(DST)).is_empty());
}

#[test]
fn node_fifo_is_made_with_its_permissions() {
    let s = itemized();
    let e = s.entry("p", S_IFIFO | 0o640, T, b"");
    let h = s.handle(&e);
    assert_eq!(h.effect, exec::Effect::Done { xattr_stale: false });
    assert_eq!(ops(&s), ["mknod p"]);
    let st = s.mem.get(&dst("p")).unwrap().st;
    assert_eq!((st.mode, st.mtime), (S_IFIFO | 0o640, T));
    assert_eq!(h.lines, ["cS+++++++++ p"]);
}

#[test]
fn transfer_hands_a_changed_file_to_the_engine() {
    let s = itemized();
    s.put_dest("a", S_IFREG | 0o644, b"old");
    let e = s.file("a", T, b"new content");
    let h = s.handle(&e);
    assert!(matches!(
        h.action,
        Some(Action::Transfer { basis: Some(_), .. })
    ));
    // The engine gets a token; nothing is changed before it runs.
    assert_eq!(h.effect, exec::Effect::Copy(Some(0)));
    assert!(ops(&s).is_empty());
}

#[test]
fn transfer_over_a_directory_removes_it_first() {
    let s = Scene::new(|o| o.force = true);
    s.put_dest("a", S_IFDIR | 0o755, b"");
    s.put_dest("a/x", S_IFREG | 0o644, b"x");
    let e = s.file("a", T, b"new");
    let h = s.handle(&e);
    assert_eq!(h.effect, exec::Effect::Copy(Some(0)));
    assert_eq!(ops(&s), ["unlink a/x", "rmdir a"]);
}

#[test]
fn transfer_refused_by_a_non_empty_directory_without_force() {
    let s = itemized();
    s.put_dest("a", S_IFDIR | 0o755, b"");
    s.put_dest("a/x", S_IFREG | 0o644, b"x");
    let e = s.file("a", T, b"new");
    let h = s.handle(&e);
    assert_eq!(h.effect, exec::Effect::None);
    assert!(ops(&s).is_empty());
    assert!(
        h.lines
            .contains(&"E: could not make way for new regular file: a".to_string()),
        "{:?}",
        h.lines
    );
}

#[test]
fn unneeded_file_goes_when_compare_dest_has_it() {
    let s = Scene::new(|o| {
        o.basis = Some((crate::options::BasisKind::Compare, vec![BASIS.into()]));
    });
    s.mem
        .put(&Path::new(BASIS).join("a"), S_IFREG | 0o644, b"same");
    s.mem.edit(&Path::new(BASIS).join("a"), |n| n.st.mtime = T);
    s.put_dest("a", S_IFREG | 0o644, b"stale");
    let e = s.file("a", T, b"same");
    let h = s.handle(&e);
    assert!(matches!(h.action, Some(Action::Unneeded { .. })));
    assert_eq!(ops(&s), ["unlink a"]);
}

#[test]
fn link_to_an_identical_link_dest_file() {
    let s = Scene::new(|o| {
        o.basis = Some((crate::options::BasisKind::Link, vec![BASIS.into()]));
    });
    let basis = basis_file(&s, "a", 0o644, b"same");
    let e = s.file("a", T, b"same");
    let h = s.handle(&e);
    assert!(matches!(h.action, Some(Action::Link { .. })));
    assert_eq!(ops(&s), ["link a"]);
    let (a, b) = (s.mem.get(&dst("a")).unwrap(), s.mem.get(&basis).unwrap());
    assert_eq!((a.st.ino, a.st.nlink), (b.st.ino, 2));
}

#[test]
fn link_dest_that_cannot_be_linked_falls_back_to_a_copy() {
    let s = Scene::new(|o| {
        o.basis = Some((crate::options::BasisKind::Link, vec![BASIS.into()]));
    });
    basis_file(&s, "a", 0o644, b"same");
    s.mem.fail(&dst("a"), Errno::MLINK);
    let e = s.file("a", T, b"same");
    let h = s.handle(&e);
    assert_eq!(h.effect, exec::Effect::Copy(Some(0)));
}

#[test]
fn hard_linked_members_wait_for_the_last_then_link_to_it() {
    let s = Scene::new(|o| o.hard_links = true);
    let a = s.file("a", T, b"data");
    let mut b = s.file("b", T, b"data");
    // One inode, two names.
    b.stat.ino = a.stat.ino;
    let mut a = a;
    (a.stat.nlink, b.stat.nlink) = (2, 2);
    s.run(|t| {
        assert_eq!(t.handle(&a, &dst("a"), Known::Unknown, false), Next::Stop);
        assert!(t.copies.take(0).is_none(), "the first member must wait");
        assert_eq!(t.handle(&b, &dst("b"), Known::Unknown, false), Next::Stop);
        // The engine's copy (token 0) lands; then the first is linked.
        s.mem.put(&dst("b"), S_IFREG | 0o644, b"data");
        t.complete(0, Outcome::Copied(4));
        t.hlink_finish_copied();
    });
    assert_eq!(ops(&s), ["link a"]);
    let (na, nb) = (s.mem.get(&dst("a")).unwrap(), s.mem.get(&dst("b")).unwrap());
    assert_eq!(na.st.ino, nb.st.ino);
}

#[test]
fn below_protocol_29_members_are_held_and_led_in_the_old_order() {
    let s = Scene::new(|o| (o.hard_links, o.protocol) = (true, 28));
    s.put_dest("a", S_IFDIR | 0o755, b"");
    // The walk meets `b` before `a/x` (files before subdirectories); the
    // old order has `a/x` first, so `b` is the group's last member.
    let mut ax = s.file("a/x", T, b"data");
    let mut b = s.file("b", T, b"data");
    b.stat.ino = ax.stat.ino;
    (ax.stat.nlink, b.stat.nlink) = (2, 2);
    s.run(|t| {
        assert_eq!(t.handle(&b, &dst("b"), Known::Unknown, false), Next::Stop);
        assert_eq!(
            t.handle(&ax, &dst("a/x"), Known::Unknown, false),
            Next::Stop
        );
        assert!(t.copies.take(0).is_none(), "held until the walk is done");
        t.hlink_replay_old();
        s.mem.put(&dst("b"), S_IFREG | 0o644, b"data");
        t.complete(0, Outcome::Copied(4));
        t.hlink_finish_copied();
    });
    assert_eq!(ops(&s), ["link a/x"]);
}

#[test]
fn local_copy_from_a_copy_dest_file_goes_to_the_engine() {
    let s = Scene::new(|o| {
        o.basis = Some((crate::options::BasisKind::Copy, vec![BASIS.into()]));
    });
    let basis = basis_file(&s, "a", 0o600, b"same");
    let e = s.file("a", T, b"same");
    let h = s.handle(&e);
    match &h.action {
        Some(Action::LocalCopy { from, remove: None }) => assert_eq!(from, &basis),
        a => panic!("{a:?}"),
    }
    assert_eq!(h.effect, exec::Effect::Copy(Some(0)));
    assert!(ops(&s).is_empty());
}

#[test]
fn non_regular_file_is_skipped_and_said_so() {
    let s = Scene::new(|o| {
        (o.devices, o.specials, o.verbose) = (false, false, 1);
    });
    let e = s.entry("p", S_IFIFO | 0o644, T, b"");
    let h = s.handle(&e);
    assert!(matches!(h.action, Some(Action::SkipNonRegular)));
    assert!(ops(&s).is_empty());
    assert_eq!(h.lines, ["skipping non-regular file \"p\""]);
}
