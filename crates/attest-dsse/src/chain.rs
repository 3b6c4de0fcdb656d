//! Printing an error with its causes.

use core::error::Error;
use core::fmt;

/// Displays an error and each of its sources, outermost first, joined by
/// `": "` — `cannot publish: HTTP exchange failed: connection refused`.
///
/// Every error in these crates says only its own part in `Display` and
/// hands the cause on through [`Error::source`], so a printer of chains (this
/// one, `anyhow`'s `{:#}`, `eyre`'s reports) shows each cause once. Use this
/// where an error becomes text: a log line, a report's detail, a message to
/// a user. (`std` has no stable report type yet; this is the dozen lines it
/// would be.)
///
/// ```
/// # use attest_dsse::ErrorChain;
/// let e = attest_dsse::Envelope::from_json(b"[").unwrap_err();
/// let text = ErrorChain(&e).to_string();
/// assert!(text.starts_with(&e.to_string()));
/// ```
#[derive(Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'a));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

impl fmt::Debug for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|l| l as &(dyn Error + 'static))
        }
    }

    #[test]
    fn each_cause_once_outermost_first() {
        let e = Layer(
            "cannot publish",
            Some(Box::new(Layer(
                "HTTP exchange failed",
                Some(Box::new(Layer("refused", None))),
            ))),
        );
        assert_eq!(
            ErrorChain(&e).to_string(),
            "cannot publish: HTTP exchange failed: refused"
        );
        assert_eq!(ErrorChain(&Layer("alone", None)).to_string(), "alone");
    }
}
