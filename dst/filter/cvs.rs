//! cvs.rs — the patterns -C (`--cvs-exclude`) starts from, as rsync's
//! `default_cvsignore()` lists them (whitespace-separated; rsync marks
//! them perishable). `$HOME/.cvsignore` and `$CVSIGNORE` are added after
//! these, and per-directory `.cvsignore` files come from a `:C` rule.

pub(crate) const DEFAULT_CVSIGNORE: &[u8] = b"RCS SCCS CVS CVS.adm RCSLOG cvslog.* tags TAGS \
.make.state .nse_depinfo *~ #* .#* ,* _$* *$ *.old *.bak *.BAK *.orig *.rej .del-* *.a *.olb \
*.o *.obj *.so *.exe *.Z *.elc *.ln core .svn/ .git/ .hg/ .bzr/";
