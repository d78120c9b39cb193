//! The man page and shell completions, generated from the option table. (Being written.)
