//! How library code reports progress and messages; the CLI renders them (spinner or plain lines).

/// One event of an image pull, as the engine reports it per layer.
#[derive(Debug, Clone, PartialEq)]
pub struct PullProgress {
    /// The image being pulled.
    pub image: String,
    /// Layer id (short digest) the event is about; empty for image-level messages.
    pub layer: String,
    /// The engine's status text (`Downloading`, `Pull complete`, …).
    pub status: String,
    /// Bytes transferred so far for this layer, when known.
    pub current: Option<u64>,
    /// Total bytes of this layer, when known.
    pub total: Option<u64>,
}

/// Receives everything a long-running operation wants the user to see. All of it goes to
/// stderr; stdout is reserved for data and written by the CLI only.
pub trait Reporter: Send + Sync {
    /// Starts a status step (ending any previous one as a success), like kind's `Status.Start`.
    fn start(&self, title: &str);
    /// Ends the current step with ✓ or ✗; no-op when none is active.
    fn end(&self, ok: bool);
    /// A plain informational line.
    fn info(&self, message: &str);
    /// A warning line.
    fn warn(&self, message: &str);
    /// A debug line shown at verbosity `level` or higher.
    fn debug(&self, level: u8, message: &str);
    /// Progress of an image pull.
    fn pull(&self, progress: &PullProgress);
    /// A pull ended (done, failed or abandoned): clear whatever shows its progress.
    fn pull_finished(&self, _image: &str) {}
    /// Progress of a byte transfer (image loading): `done` of `total` bytes, `total` if known.
    fn transfer(&self, _label: &str, _done: u64, _total: Option<u64>) {}
}

/// A reporter that drops everything (library callers and tests that do not care).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Reporter for Silent {
    fn start(&self, _title: &str) {}
    fn end(&self, _ok: bool) {}
    fn info(&self, _message: &str) {}
    fn warn(&self, _message: &str) {}
    fn debug(&self, _level: u8, _message: &str) {}
    fn pull(&self, _progress: &PullProgress) {}
}
