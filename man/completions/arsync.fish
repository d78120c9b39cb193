complete -c arsync -l info -d 'fine-grained informational verbosity' -r -f -a "backup\t''
copy\t''
del\t''
flist\t''
misc\t''
mount\t''
name\t''
nonreg\t''
progress\t''
remove\t''
skip\t''
stats\t''
symsafe\t''
progress2\t''
all\t''
none\t''
help\t''"
complete -c arsync -l debug -d 'fine-grained debug verbosity' -r -f -a "acl\t''
backup\t''
bind\t''
chdir\t''
connect\t''
cmd\t''
del\t''
deltasum\t''
dup\t''
exit\t''
filter\t''
flist\t''
fuzzy\t''
genr\t''
hash\t''
hlink\t''
iconv\t''
io\t''
nstr\t''
own\t''
proto\t''
recv\t''
send\t''
time\t''
all\t''
none\t''
help\t''"
complete -c arsync -l stderr -d 'change stderr output mode (default: errors)' -r -f -a "errors\t''
all\t''
client\t''"
complete -c arsync -l backup-dir -d 'make backups into hierarchy based in DIR' -r -f -a "(__fish_complete_directories)"
complete -c arsync -l suffix -d 'backup suffix (default ~ w/o --backup-dir)' -r -f
complete -c arsync -l confine-root -d 'refuse operator paths resolving outside DIR' -r -f -a "(__fish_complete_directories)"
complete -c arsync -l chmod -d 'affect file and/or directory permissions' -r -f
complete -c arsync -l checksum-choice -d 'choose the checksum algorithm (aka --cc)' -r -f -a "auto\t''
xxh128\t''
xxh3\t''
xxh64\t''
xxhash\t''
md5\t''
md4\t''
sha1\t''
none\t''"
complete -c arsync -s B -l block-size -d 'force a fixed checksum block-size' -r -f
complete -c arsync -s e -l rsh -d 'specify the remote shell to use' -r -f -a "(__fish_complete_command)"
complete -c arsync -l rsync-path -d 'specify the rsync to run on remote machine' -r -f -a "(__fish_complete_command)"
complete -c arsync -l max-delete -d 'don\'t delete more than NUM files' -r -f
complete -c arsync -l max-size -d 'don\'t transfer any file larger than SIZE' -r -f
complete -c arsync -l min-size -d 'don\'t transfer any file smaller than SIZE' -r -f
complete -c arsync -l max-alloc -d 'change a limit relating to memory alloc' -r -f
complete -c arsync -l partial-dir -d 'put a partially transferred file into DIR' -r -f -a "(__fish_complete_directories)"
complete -c arsync -l usermap -d 'custom username mapping' -r -f
complete -c arsync -l groupmap -d 'custom groupname mapping' -r -f
complete -c arsync -l chown -d 'simple username/groupname mapping' -r -f
complete -c arsync -l timeout -d 'set I/O timeout in seconds' -r -f
complete -c arsync -l contimeout -d 'set daemon connection timeout in seconds' -r -f
complete -c arsync -s @ -l modify-window -d 'set the accuracy for mod-time comparisons' -r -f
complete -c arsync -s T -l temp-dir -d 'create temporary files in directory DIR' -r -f -a "(__fish_complete_directories)"
complete -c arsync -l compare-dest -d 'also compare destination files relative to DIR' -r -f -a "(__fish_complete_directories)"
complete -c arsync -l copy-dest -d '... and include copies of unchanged files' -r -f -a "(__fish_complete_directories)"
complete -c arsync -l link-dest -d 'hardlink to files in DIR when unchanged' -r -f -a "(__fish_complete_directories)"
complete -c arsync -l compress-choice -d 'choose the compression algorithm (aka --zc)' -r -f -a "auto\t''
zstd\t''
lz4\t''
zlibx\t''
zlib\t''
none\t''"
complete -c arsync -l compress-level -d 'explicitly set compression level (aka --zl)' -r -f
complete -c arsync -l compress-threads -d 'explicitly set compression threads (aka --zt)' -r -f
complete -c arsync -l skip-compress -d 'skip compressing files with suffix in LIST' -r -f
complete -c arsync -s f -l filter -d 'add a file-filtering RULE' -r -f
complete -c arsync -l exclude -d 'exclude files matching PATTERN' -r -f
complete -c arsync -l exclude-from -d 'read exclude patterns from FILE' -r -F
complete -c arsync -l include -d 'don\'t exclude files matching PATTERN' -r -f
complete -c arsync -l include-from -d 'read include patterns from FILE' -r -F
complete -c arsync -l files-from -d 'read list of source-file names from FILE' -r -F
complete -c arsync -l copy-as -d 'specify user & optional group for the copy' -r -f
complete -c arsync -l address -d 'bind address for outgoing socket to daemon' -r -f
complete -c arsync -l port -d 'specify double-colon alternate port number' -r -f
complete -c arsync -l sockopts -d 'specify custom TCP options' -r -f
complete -c arsync -l outbuf -d 'set out buffering to None, Line, or Block' -r -f
complete -c arsync -s M -l remote-option -d 'send OPTION to the remote side only' -r -f
complete -c arsync -l out-format -d 'output updates using the specified FORMAT' -r -f
complete -c arsync -l log-file -d 'log what we\'re doing to the specified FILE' -r -F
complete -c arsync -l log-file-format -d 'log updates using the specified FMT' -r -f
complete -c arsync -l password-file -d 'read daemon-access password from FILE' -r -F
complete -c arsync -l early-input -d 'use FILE for daemon\'s early exec input' -r -F
complete -c arsync -l bwlimit -d 'limit socket I/O bandwidth' -r -f
complete -c arsync -l stop-after -d 'Stop rsync after MINS minutes have elapsed' -r -f
complete -c arsync -l stop-at -d 'Stop rsync at the specified point in time' -r -f
complete -c arsync -l write-batch -d 'write a batched update to FILE' -r -F
complete -c arsync -l only-write-batch -d 'like --write-batch but w/o updating dest' -r -F
complete -c arsync -l read-batch -d 'read a batched update from FILE' -r -F
complete -c arsync -l protocol -d 'force an older protocol version to be used' -r -f
complete -c arsync -l iconv -d 'request charset conversion of filenames' -r -f
complete -c arsync -l checksum-seed -d 'set block/file checksum seed (advanced)' -r -f
complete -c arsync -l copy-engine -d 'arsync only: auto|vec|read-managed|write-managed|copy-file-range' -r -f -a "auto\t''
vec\t''
read-managed\t''
write-managed\t''
copy-file-range\t''"
complete -c arsync -s v -l verbose -d 'increase verbosity'
complete -c arsync -s q -l quiet -d 'suppress non-error messages'
complete -c arsync -l no-motd -d 'suppress daemon-mode MOTD'
complete -c arsync -s c -l checksum -d 'skip based on checksum, not mod-time & size'
complete -c arsync -s a -l archive -d 'archive mode is -rlptgoD (no -A,-X,-U,-N,-H)'
complete -c arsync -s r -l recursive -d 'recurse into directories'
complete -c arsync -l inc-recursive -d 'enable incremental recursion'
complete -c arsync -l no-inc-recursive -d 'disable incremental recursion'
complete -c arsync -s R -l relative -d 'use relative path names'
complete -c arsync -l no-implied-dirs -d 'don\'t send implied directories with --relative'
complete -c arsync -s b -l backup -d 'make backups (see --suffix & --backup-dir)'
complete -c arsync -s u -l update -d 'skip files that are newer on the receiver'
complete -c arsync -l inplace -d 'update destination files in-place'
complete -c arsync -l append -d 'append data onto shorter files'
complete -c arsync -l append-verify -d '--append w/old data in file checksum'
complete -c arsync -s d -l dirs -d 'transfer directories without recursing'
complete -c arsync -l old-dirs -d 'works like --dirs when talking to old rsync'
complete -c arsync -l mkpath -d 'create destination\'s missing path components'
complete -c arsync -s l -l links -d 'copy symlinks as symlinks'
complete -c arsync -s L -l copy-links -d 'transform symlink into referent file/directory'
complete -c arsync -l copy-unsafe-links -d 'only "unsafe" symlinks are transformed'
complete -c arsync -l safe-links -d 'ignore symlinks that point outside the tree'
complete -c arsync -l insecure-links -d 'follow attacker-owned symlinks in operator paths'
complete -c arsync -l munge-links -d 'munge symlinks to make them safe & unusable'
complete -c arsync -s k -l copy-dirlinks -d 'transform symlink to directory into referent directory'
complete -c arsync -s K -l keep-dirlinks -d 'treat symlinked directory on receiver as directory'
complete -c arsync -s H -l hard-links -d 'preserve hard links'
complete -c arsync -s p -l perms -d 'preserve permissions'
complete -c arsync -s E -l executability -d 'preserve executability'
complete -c arsync -s A -l acls -d 'preserve ACLs (implies --perms)'
complete -c arsync -s X -l xattrs -d 'preserve extended attributes'
complete -c arsync -s o -l owner -d 'preserve owner (super-user only)'
complete -c arsync -s g -l group -d 'preserve group'
complete -c arsync -l devices -d 'preserve device files (super-user only)'
complete -c arsync -l copy-devices -d 'copy device contents as a regular file'
complete -c arsync -l write-devices -d 'write to devices as files (implies --inplace)'
complete -c arsync -l specials -d 'preserve special files'
complete -c arsync -l drop-D -d 'receiver refuses to create devices/specials'
complete -c arsync -s D -d 'same as --devices --specials'
complete -c arsync -s t -l times -d 'preserve modification times'
complete -c arsync -s U -l atimes -d 'preserve access (use) times'
complete -c arsync -l open-noatime -d 'avoid changing the atime on opened files'
complete -c arsync -s N -l crtimes -d 'preserve create times (newness)'
complete -c arsync -s O -l omit-dir-times -d 'omit directories from --times'
complete -c arsync -s J -l omit-link-times -d 'omit symlinks from --times'
complete -c arsync -l super -d 'receiver attempts super-user activities'
complete -c arsync -l fake-super -d 'store/recover privileged attrs using xattrs'
complete -c arsync -s S -l sparse -d 'turn sequences of nulls into sparse blocks'
complete -c arsync -l preallocate -d 'allocate dest files before writing them'
complete -c arsync -s n -l dry-run -d 'perform a trial run with no changes made'
complete -c arsync -s W -l whole-file -d 'copy files whole (w/o delta-xfer algorithm)'
complete -c arsync -l no-whole-file -d 'use the delta-xfer algorithm'
complete -c arsync -s x -l one-file-system -d 'don\'t cross filesystem boundaries'
complete -c arsync -l existing -d 'skip creating new files on receiver'
complete -c arsync -l ignore-non-existing -d 'skip creating new files on receiver'
complete -c arsync -l ignore-existing -d 'skip updating files that exist on receiver'
complete -c arsync -l remove-source-files -d 'sender removes synchronized files (non-directory)'
complete -c arsync -l del -d 'an alias for --delete-during'
complete -c arsync -l delete -d 'delete extraneous files from dest directories'
complete -c arsync -l delete-before -d 'receiver deletes before xfer, not during'
complete -c arsync -l delete-during -d 'receiver deletes during the transfer'
complete -c arsync -l delete-delay -d 'find deletions during, delete after'
complete -c arsync -l delete-after -d 'receiver deletes after transfer, not during'
complete -c arsync -l delete-excluded -d 'also delete excluded files from dest directories'
complete -c arsync -l ignore-missing-args -d 'ignore missing source arguments without error'
complete -c arsync -l delete-missing-args -d 'delete missing source arguments from destination'
complete -c arsync -l ignore-errors -d 'delete even if there are I/O errors'
complete -c arsync -l force -d 'force deletion of directories even if not empty'
complete -c arsync -l partial -d 'keep partially transferred files'
complete -c arsync -l delay-updates -d 'put all updated files into place at end'
complete -c arsync -s m -l prune-empty-dirs -d 'prune empty directory chains from file-list'
complete -c arsync -l numeric-ids -d 'don\'t map uid/gid values by user/group name'
complete -c arsync -s I -l ignore-times -d 'don\'t skip files that match size and time'
complete -c arsync -l size-only -d 'skip files that match in size'
complete -c arsync -s y -l fuzzy -d 'find similar file for basis if no dest file'
complete -c arsync -s z -l compress -d 'compress file data during the transfer'
complete -c arsync -s C -l cvs-exclude -d 'auto-ignore files in the same way CVS does'
complete -c arsync -s F -d 'same as --filter=\'dir-merge /.rsync-filter\''
complete -c arsync -s 0 -l from0 -d 'all *-from/filter files are delimited by 0s'
complete -c arsync -l old-args -d 'disable the modern argument-protection idiom'
complete -c arsync -s s -l secluded-args -d 'use the protocol to safely send the arguments'
complete -c arsync -l trust-sender -d 'trust the remote sender\'s file list'
complete -c arsync -l blocking-io -d 'use blocking I/O for the remote shell'
complete -c arsync -l stats -d 'give some file-transfer stats'
complete -c arsync -s 8 -l 8-bit-output -d 'leave high-bit chars unescaped in output'
complete -c arsync -s h -l human-readable -d 'output numbers in a human-readable format'
complete -c arsync -l progress -d 'show progress during transfer'
complete -c arsync -s P -d 'same as --partial --progress'
complete -c arsync -s i -l itemize-changes -d 'output a change-summary for all updates'
complete -c arsync -l list-only -d 'list the files instead of copying them'
complete -c arsync -l fsync -d 'fsync every written file'
complete -c arsync -s 4 -l ipv4 -d 'prefer IPv4'
complete -c arsync -s 6 -l ipv6 -d 'prefer IPv6'
complete -c arsync -s V -l version -d 'print the version + other info and exit'
complete -c arsync -l help -d 'show this help (* -h is help only on its own)'
complete -c arsync -l no-fallback -d 'arsync only: never hand over to the system rsync'
complete -c arsync -l no-progress-bar -d 'arsync only: rsync\'s progress text even on a terminal'
