//! Checkpoint bodies (C2SP tlog-checkpoint): the text a log signs.
//!
//! ```text
//! rekor.sigstore.dev - 1193050959916656506     origin
//! 33786589                                     tree size, decimal, no leading zeros
//! ZrYR297TJTi0oux1PnfYzacxRVBAkp5eW5lpw/qFYWQ= root hash, standard base64
//! Timestamp: 1692374735595899989               extension lines (optional, non-empty)
//! ```
//!
//! Every line ends with a newline, including the last. Parsing is exact:
//! formatting a parsed checkpoint reproduces its text byte for byte. The
//! signatures around a body (the signed note) are not handled here.
//!
//! ```
//! use attest_merkle::Checkpoint;
//!
//! let text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
//! let cp = Checkpoint::parse(text).unwrap();
//! assert_eq!(cp.origin(), "example.com/behind-the-sofa");
//! assert_eq!(cp.size(), 20852163);
//! assert_eq!(cp.to_string(), text);
//! ```

use core::fmt;

use crate::{Hash, HashParseError};

/// Why a checkpoint body is malformed. Line numbers are 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The bytes are not UTF-8.
    NotUtf8,
    /// An ASCII control character other than newline, at this byte offset.
    ControlCharacter {
        /// Byte offset in the text.
        offset: usize,
    },
    /// The text does not end with a newline.
    MissingFinalNewline,
    /// Fewer than the three mandatory lines.
    TooFewLines {
        /// Lines present.
        got: usize,
    },
    /// A line is empty (the origin, or an extension line).
    EmptyLine {
        /// The empty line.
        line: usize,
    },
    /// The tree size is not plain ASCII decimal.
    TreeSizeNotDecimal,
    /// The tree size has a leading zero.
    TreeSizeLeadingZero,
    /// The tree size does not fit in a `u64`.
    TreeSizeOverflow,
    /// The root hash line is not padded standard base64 of 32 bytes.
    InvalidRootHash(HashParseError),
    /// An origin or extension passed to a constructor contains a newline.
    NewlineInField,
}

impl CheckpointError {
    /// A stable, kebab-case name of the failure.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::NotUtf8 => "not-utf8",
            Self::ControlCharacter { .. } => "control-character",
            Self::MissingFinalNewline => "missing-final-newline",
            Self::TooFewLines { .. } => "too-few-lines",
            Self::EmptyLine { .. } => "empty-line",
            Self::TreeSizeNotDecimal => "tree-size-not-decimal",
            Self::TreeSizeLeadingZero => "tree-size-leading-zero",
            Self::TreeSizeOverflow => "tree-size-overflow",
            Self::InvalidRootHash(_) => "invalid-root-hash",
            Self::NewlineInField => "newline-in-field",
        }
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotUtf8 => f.write_str("checkpoint is not valid UTF-8"),
            Self::ControlCharacter { offset } => {
                write!(f, "control character at byte {offset} of the checkpoint")
            }
            Self::MissingFinalNewline => f.write_str("checkpoint does not end with a newline"),
            Self::TooFewLines { got } => {
                write!(
                    f,
                    "checkpoint has {got} lines, needs origin, size and root hash"
                )
            }
            Self::EmptyLine { line } => write!(f, "line {line} of the checkpoint is empty"),
            Self::TreeSizeNotDecimal => f.write_str("tree size is not a decimal number"),
            Self::TreeSizeLeadingZero => f.write_str("tree size has a leading zero"),
            Self::TreeSizeOverflow => f.write_str("tree size does not fit in 64 bits"),
            Self::InvalidRootHash(e) => write!(f, "root hash line: {e}"),
            Self::NewlineInField => f.write_str("origin or extension line contains a newline"),
        }
    }
}

impl core::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::InvalidRootHash(e) => Some(e),
            _ => None,
        }
    }
}

/// A parsed checkpoint body, borrowing its origin and extension lines from
/// the text it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint<'a> {
    origin: &'a str,
    size: u64,
    root: Hash,
    /// Extension lines, each with its newline (empty when none).
    extensions: &'a str,
}

impl<'a> Checkpoint<'a> {
    /// A checkpoint with no extension lines.
    ///
    /// # Errors
    /// [`CheckpointError::EmptyLine`] for an empty origin,
    /// [`CheckpointError::NewlineInField`] or
    /// [`CheckpointError::ControlCharacter`] for an origin that would not
    /// parse back as one line.
    pub fn new(origin: &'a str, size: u64, root: Hash) -> Result<Self, CheckpointError> {
        if origin.is_empty() {
            return Err(CheckpointError::EmptyLine { line: 1 });
        }
        if origin.contains('\n') {
            return Err(CheckpointError::NewlineInField);
        }
        check_controls(origin)?;
        Ok(Self {
            origin,
            size,
            root,
            extensions: "",
        })
    }

    /// Sets the extension lines: zero or more non-empty lines, each ending
    /// with a newline (e.g. `"Timestamp: 1692374735595899989\n"`).
    ///
    /// # Errors
    /// [`CheckpointError::MissingFinalNewline`], [`CheckpointError::EmptyLine`]
    /// or [`CheckpointError::ControlCharacter`].
    pub fn with_extensions(mut self, extensions: &'a str) -> Result<Self, CheckpointError> {
        check_controls(extensions)?;
        if !extensions.is_empty() && !extensions.ends_with('\n') {
            return Err(CheckpointError::MissingFinalNewline);
        }
        if let Some(i) = extensions.split_terminator('\n').position(str::is_empty) {
            return Err(CheckpointError::EmptyLine { line: 4 + i });
        }
        self.extensions = extensions;
        Ok(self)
    }

    /// Parses a checkpoint body from bytes.
    ///
    /// # Errors
    /// [`CheckpointError::NotUtf8`] or any error of [`parse`](Self::parse).
    pub fn parse_bytes(text: &'a [u8]) -> Result<Self, CheckpointError> {
        let text = core::str::from_utf8(text).map_err(|_| CheckpointError::NotUtf8)?;
        Self::parse(text)
    }

    /// Parses a checkpoint body: exactly the note text, ending with a newline,
    /// without the blank line and signatures of a signed note.
    ///
    /// # Errors
    /// A [`CheckpointError`] naming the first malformed part.
    pub fn parse(text: &'a str) -> Result<Self, CheckpointError> {
        check_controls(text)?;
        if !text.ends_with('\n') {
            return Err(CheckpointError::MissingFinalNewline);
        }
        let mut lines = text.split_terminator('\n');
        let mut next_line = |n: usize| -> Result<&'a str, CheckpointError> {
            match lines.next() {
                Some("") => Err(CheckpointError::EmptyLine { line: n }),
                Some(l) => Ok(l),
                None => Err(CheckpointError::TooFewLines { got: n - 1 }),
            }
        };
        let origin = next_line(1)?;
        let size_line = next_line(2)?;
        let root_line = next_line(3)?;
        let size = parse_size(size_line)?;
        let root = Hash::from_base64(root_line).map_err(CheckpointError::InvalidRootHash)?;
        // The rest is extension lines; `origin`, size and root lines plus their
        // three newlines precede it.
        let header = origin.len() + size_line.len() + root_line.len() + 3;
        let extensions = text
            .get(header..)
            .ok_or(CheckpointError::MissingFinalNewline)?;
        if let Some(i) = extensions.split_terminator('\n').position(str::is_empty) {
            return Err(CheckpointError::EmptyLine { line: 4 + i });
        }
        Ok(Self {
            origin,
            size,
            root,
            extensions,
        })
    }

    /// The log's origin line.
    #[must_use]
    pub const fn origin(&self) -> &'a str {
        self.origin
    }

    /// The tree size.
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// The root hash.
    #[must_use]
    pub const fn root(&self) -> &Hash {
        &self.root
    }

    /// The extension lines, without their newlines.
    pub fn extensions(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.extensions.split_terminator('\n')
    }

    /// The extension lines as one string, each line with its newline.
    #[must_use]
    pub const fn extension_text(&self) -> &'a str {
        self.extensions
    }
}

impl fmt::Display for Checkpoint<'_> {
    /// The exact body text, ending with a newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\n{}\n{}\n{}",
            self.origin,
            self.size,
            self.root.base64(),
            self.extensions
        )
    }
}

fn check_controls(text: &str) -> Result<(), CheckpointError> {
    match text.bytes().position(|b| b < 0x20 && b != b'\n') {
        Some(offset) => Err(CheckpointError::ControlCharacter { offset }),
        None => Ok(()),
    }
}

fn parse_size(line: &str) -> Result<u64, CheckpointError> {
    let b = line.as_bytes();
    if !b.iter().all(u8::is_ascii_digit) {
        return Err(CheckpointError::TreeSizeNotDecimal);
    }
    if b.len() > 1 && b[0] == b'0' {
        return Err(CheckpointError::TreeSizeLeadingZero);
    }
    let mut v: u64 = 0;
    for d in b {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(CheckpointError::TreeSizeOverflow)?;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    const ROOT: &str = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";

    fn text(size: &str, ext: &str) -> std::string::String {
        std::format!("example.com/behind-the-sofa\n{size}\n{ROOT}\n{ext}")
    }

    #[test]
    fn extensions_are_preserved() {
        let t = text("5", "Timestamp: 1692374735595899989\nOther: x\n");
        let cp = Checkpoint::parse(&t).unwrap();
        assert_eq!(
            cp.extensions().collect::<std::vec::Vec<_>>(),
            ["Timestamp: 1692374735595899989", "Other: x"]
        );
        assert_eq!(cp.to_string(), t);
    }

    #[test]
    fn every_malformed_shape_is_named() {
        use CheckpointError as E;
        let cases: &[(&str, E)] = &[
            ("", E::MissingFinalNewline),
            ("\n", E::EmptyLine { line: 1 }),
            ("o\n1\n", E::TooFewLines { got: 2 }),
            ("o\n", E::TooFewLines { got: 1 }),
            ("o\n\nx\n", E::EmptyLine { line: 2 }),
            (
                "o\n1\nAAAA\n",
                E::InvalidRootHash(HashParseError::WrongLength { len: 4 }),
            ),
            ("o\n1\nroot", E::MissingFinalNewline),
            ("o\r\n1\n", E::ControlCharacter { offset: 1 }),
            ("o\t\n1\n", E::ControlCharacter { offset: 1 }),
        ];
        for (t, want) in cases {
            assert_eq!(Checkpoint::parse(t), Err(*want), "{t:?}");
        }
        assert_eq!(
            Checkpoint::parse(&text("01", "")),
            Err(E::TreeSizeLeadingZero)
        );
        assert_eq!(
            Checkpoint::parse(&text("+1", "")),
            Err(E::TreeSizeNotDecimal)
        );
        assert_eq!(
            Checkpoint::parse(&text("-1", "")),
            Err(E::TreeSizeNotDecimal)
        );
        assert_eq!(
            Checkpoint::parse(&text(" 1", "")),
            Err(E::TreeSizeNotDecimal)
        );
        assert_eq!(
            Checkpoint::parse(&text("", "")),
            Err(E::EmptyLine { line: 2 })
        );
        assert_eq!(
            Checkpoint::parse(&text("18446744073709551616", "")),
            Err(E::TreeSizeOverflow)
        );
        assert_eq!(
            Checkpoint::parse(&text("18446744073709551615", ""))
                .unwrap()
                .size(),
            u64::MAX
        );
        assert_eq!(Checkpoint::parse(&text("0", "")).unwrap().size(), 0);
        assert_eq!(
            Checkpoint::parse(&text("1", "a\n\n")),
            Err(E::EmptyLine { line: 5 })
        );
        assert_eq!(
            Checkpoint::parse(&text("1", "\n")),
            Err(E::EmptyLine { line: 4 })
        );
        assert_eq!(Checkpoint::parse_bytes(b"o\xff\n1\n"), Err(E::NotUtf8));
        let hex_root = "0a".repeat(32);
        assert!(matches!(
            Checkpoint::parse(&std::format!("o\n1\n{hex_root}\n")),
            Err(E::InvalidRootHash(_))
        ));
    }

    #[test]
    fn constructors_refuse_what_would_not_parse_back() {
        let root = Hash::default();
        assert_eq!(
            Checkpoint::new("", 1, root),
            Err(CheckpointError::EmptyLine { line: 1 })
        );
        assert_eq!(
            Checkpoint::new("a\nb", 1, root),
            Err(CheckpointError::NewlineInField)
        );
        let cp = Checkpoint::new("a - 1", 7, root).unwrap();
        assert_eq!(
            cp.with_extensions("x"),
            Err(CheckpointError::MissingFinalNewline)
        );
        assert_eq!(
            cp.with_extensions("x\n\n"),
            Err(CheckpointError::EmptyLine { line: 5 })
        );
        let cp = cp.with_extensions("x\ny\n").unwrap();
        let s = cp.to_string();
        assert_eq!(Checkpoint::parse(&s).unwrap(), cp);
    }
}
