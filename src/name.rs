//! [`Name`]: an entry's name, kept inside the entry when it is short.
//!
//! A listing holds one name per entry: as a `Vec<u8>` each is 24 bytes
//! plus an allocation of at least 32 (6.4 MB for a directory of 200,000
//! files). Most names of a directory's listing are short, so up to
//! [`INLINE`] bytes live in the 24 bytes the `Vec` took; longer ones are
//! one exact-size allocation.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// The longest name kept without an allocation.
const INLINE: usize = 22;

/// A name's bytes (a path relative to the transfer root, as rsync shows
/// it). Compares, hashes and orders as its bytes.
#[derive(Clone)]
pub(crate) enum Name {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

// No larger than the `Vec<u8>` it replaced.
const _: () = assert!(std::mem::size_of::<Name>() == 24);

impl Name {
    pub(crate) fn new(b: &[u8]) -> Name {
        if b.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..b.len()].copy_from_slice(b);
            Name::Inline {
                len: b.len() as u8,
                bytes,
            }
        } else {
            Name::Heap(b.into())
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Name::Inline { len, bytes } => &bytes[..*len as usize],
            Name::Heap(b) => b,
        }
    }
}

impl Default for Name {
    fn default() -> Name {
        Name::new(b"")
    }
}

impl Deref for Name {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Name {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for Name {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<Vec<u8>> for Name {
    fn from(v: Vec<u8>) -> Name {
        if v.len() <= INLINE {
            Name::new(&v)
        } else {
            Name::Heap(v.into_boxed_slice())
        }
    }
}

impl From<&[u8]> for Name {
    fn from(b: &[u8]) -> Name {
        Name::new(b)
    }
}

impl From<Name> for Vec<u8> {
    fn from(n: Name) -> Vec<u8> {
        match n {
            Name::Heap(b) => b.into_vec(),
            n => n.as_bytes().to_vec(),
        }
    }
}

impl PartialEq for Name {
    fn eq(&self, o: &Name) -> bool {
        self.as_bytes() == o.as_bytes()
    }
}

impl Eq for Name {}

impl PartialEq<[u8]> for Name {
    fn eq(&self, o: &[u8]) -> bool {
        self.as_bytes() == o
    }
}

impl PartialEq<&[u8]> for Name {
    fn eq(&self, o: &&[u8]) -> bool {
        self.as_bytes() == *o
    }
}

impl PartialEq<Vec<u8>> for Name {
    fn eq(&self, o: &Vec<u8>) -> bool {
        self.as_bytes() == o.as_slice()
    }
}

impl<const N: usize> PartialEq<[u8; N]> for Name {
    fn eq(&self, o: &[u8; N]) -> bool {
        self.as_bytes() == o
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Name {
    fn eq(&self, o: &&[u8; N]) -> bool {
        self.as_bytes() == *o
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, o: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Name {
    fn cmp(&self, o: &Name) -> std::cmp::Ordering {
        self.as_bytes().cmp(o.as_bytes())
    }
}

impl Hash for Name {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_bytes().hash(h)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&String::from_utf8_lossy(self.as_bytes()), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_names_keep_their_bytes() {
        for n in [
            &b""[..],
            b"f000000.dat",
            &[b'x'; 22],
            &[b'y'; 23],
            &[0xff; 300],
        ] {
            let name = Name::from(n.to_vec());
            assert_eq!(name.as_bytes(), n);
            assert_eq!(Vec::from(name.clone()), n);
            assert_eq!(Name::new(n), name);
        }
        assert!(matches!(Name::new(&[b'x'; 22]), Name::Inline { .. }));
        assert!(matches!(Name::new(&[b'x'; 23]), Name::Heap(_)));
        assert!(Name::new(b"a") < Name::new(b"a\0"));
    }
}
