//! Everything the user sees on stderr: kind's status lines (a spinner and ✓/✗ on a smart
//! terminal, plain lines otherwise), warnings, debug lines and pull/transfer progress.

use crate::report::{PullProgress, Reporter};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// kind's spinner frames, one every 100 ms.
const FRAMES: [&str; 15] = [
    "⠈⠁", "⠈⠑", "⠈⠱", "⠈⡱", "⢀⡱", "⢄⡱", "⢄⡱", "⢆⡱", "⢎⡱", "⢎⡰", "⢎⡠", "⢎⡀", "⢎⠁", "⠎⠁", "⠊⠁",
];
/// In plain mode, byte counts for one pull or transfer are printed at most this often.
const PLAIN_PROGRESS_INTERVAL: Duration = Duration::from_secs(5);

/// Whether stderr is a "smart terminal" by kind's rules (kind-facts §1.1).
pub fn stderr_is_smart_terminal() -> bool {
    let env = |k: &str| std::env::var_os(k);
    std::io::stderr().is_terminal()
        && env("NO_COLOR").is_none()
        && !matches!(
            std::env::var("TERM").as_deref(),
            Ok("dumb") | Ok("st-256color")
        )
        && !(std::env::var("TRAVIS").as_deref() == Ok("true")
            && std::env::var("HAS_JOSH_K_SEAL_OF_APPROVAL").as_deref() == Ok("true"))
}

/// How chatty the CLI is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputMode {
    /// Nothing but errors.
    pub quiet: bool,
    /// `-v` level: debug lines up to this level are shown.
    pub verbosity: i32,
    /// Spinner, colours and progress bars (smart terminal).
    pub smart: bool,
}

/// The CLI's [`Reporter`]: owns the spinner and progress bars.
pub struct Output {
    mode: OutputMode,
    /// On a smart terminal every bar (the status spinner included) lives here, so they are
    /// drawn together and log lines go above them.
    multi: Option<MultiProgress>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    status: Option<(String, Option<ProgressBar>)>,
    pulls: BTreeMap<String, Pull>,
    transfers: BTreeMap<String, Transfer>,
}

/// One image being pulled: bytes per layer, and what has been shown of it.
struct Pull {
    /// layer id → (bar, last status, bytes downloaded, layer size)
    layers: BTreeMap<String, Layer>,
    total: Option<ProgressBar>,
    last_plain: Option<Instant>,
}

struct Layer {
    bar: Option<ProgressBar>,
    status: String,
    done: u64,
    size: u64,
}

struct Transfer {
    bar: Option<ProgressBar>,
    last_plain: Option<Instant>,
}

impl Output {
    /// Creates the reporter for a mode.
    pub fn new(mode: OutputMode) -> Self {
        let multi = (mode.smart && !mode.quiet)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Output {
            mode,
            multi,
            state: Mutex::new(State::default()),
        }
    }

    /// The mode in use.
    pub fn mode(&self) -> OutputMode {
        self.mode
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock only affects display state; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes one line to stderr, above any spinner or bars.
    fn line(&self, text: &str) {
        if self.mode.quiet {
            return;
        }
        self.line_always(text);
    }

    fn line_always(&self, text: &str) {
        // Everything on stderr, at any verbosity, passes here: no secret gets through.
        let redacted = crate::report::redact(text);
        let text = redacted.as_ref();
        match &self.multi {
            Some(multi) => {
                if multi.println(text).is_err() {
                    eprintln_safe(text);
                }
            }
            None => eprintln_safe(text),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.mode.smart {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn bar(&self, bar: ProgressBar, template: &str) -> Option<ProgressBar> {
        let multi = self.multi.as_ref()?;
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Some(multi.add(bar))
    }

    fn finish(&self, bar: &ProgressBar) {
        bar.finish_and_clear();
        if let Some(multi) = &self.multi {
            multi.remove(bar);
        }
    }

    /// Removes a pull's bars.
    fn clear_pull(&self, state: &mut State, image: &str) {
        if let Some(pull) = state.pulls.remove(image) {
            for bar in pull
                .layers
                .values()
                .filter_map(|l| l.bar.as_ref())
                .chain(pull.total.as_ref())
            {
                self.finish(bar);
            }
        }
    }

    /// Prints an error the way kind does: `ERROR: <message>`, red word on a smart terminal.
    /// Shown even in quiet mode (kindling's `--quiet` keeps errors).
    pub fn error(&self, message: &str) {
        // Whatever was still showing progress (a pull cut short) is over now.
        {
            let mut state = self.lock();
            let images: Vec<String> = state.pulls.keys().cloned().collect();
            for image in images {
                self.clear_pull(&mut state, &image);
            }
            for (_, transfer) in std::mem::take(&mut state.transfers) {
                if let Some(bar) = transfer.bar {
                    self.finish(&bar);
                }
            }
        }
        let label = self.paint("31", "ERROR");
        self.line_always(&format!("{label}: {message}"));
    }

    /// Prints the output of a failed command below an error (kind's `Command Output:` block).
    pub fn command_output(&self, output: &str) {
        let label = self.paint("31", "Command Output");
        self.line_always(&format!("\n{label}: {output}"));
    }
}

fn eprintln_safe(text: &str) {
    let mut err = std::io::stderr().lock();
    // stderr going away (closed pipe) must not turn into a panic.
    let _ = writeln!(err, "{text}");
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Whether enough time passed since the last plain progress line.
fn due(last: &mut Option<Instant>) -> bool {
    if last.is_some_and(|t| t.elapsed() < PLAIN_PROGRESS_INTERVAL) {
        return false;
    }
    *last = Some(Instant::now());
    true
}

impl Reporter for Output {
    fn start(&self, title: &str) {
        self.end(true);
        if self.mode.quiet {
            return;
        }
        let bar = self.bar(ProgressBar::new_spinner(), "{spinner} {msg}");
        if let Some(bar) = &bar {
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style.tick_strings(&[FRAMES.as_slice(), &[""]].concat()));
            }
            bar.set_message(format!("{title} "));
            bar.enable_steady_tick(Duration::from_millis(100));
        } else {
            self.line(&format!(" • {title}  ..."));
        }
        self.lock().status = Some((title.to_string(), bar));
    }

    fn end(&self, ok: bool) {
        let Some((title, bar)) = self.lock().status.take() else {
            return;
        };
        if let Some(bar) = bar {
            self.finish(&bar);
        }
        let mark = if ok {
            self.paint("32", "✓")
        } else {
            self.paint("31", "✗")
        };
        self.line(&format!(" {mark} {title}"));
    }

    fn info(&self, message: &str) {
        self.line(message);
    }

    fn warn(&self, message: &str) {
        self.line(&format!("WARNING: {message}"));
    }

    fn debug(&self, level: u8, message: &str) {
        if i32::from(level) <= self.mode.verbosity {
            self.line(&format!("DEBUG: {message}"));
        }
    }

    fn pull(&self, p: &PullProgress) {
        if self.mode.quiet {
            return;
        }
        let mut lines = Vec::new();
        {
            let mut state = self.lock();
            let pull = state.pulls.entry(p.image.clone()).or_insert_with(|| Pull {
                layers: BTreeMap::new(),
                total: None,
                last_plain: None,
            });
            let image_level = p.layer.is_empty() || !p.status_is_layer();
            if image_level {
                // "Pulling from …", "Digest: …", "Status: …": worth a line only without bars.
                if self.multi.is_none() {
                    lines.push(format!("Pulling {}: {}", p.image, p.status));
                }
            } else {
                let layer = pull.layers.entry(p.layer.clone()).or_insert_with(|| Layer {
                    bar: self.bar(
                        ProgressBar::new(0).with_prefix(p.layer.clone()),
                        "    {prefix} {msg:<18} {bytes:>9}/{total_bytes:<9}",
                    ),
                    status: String::new(),
                    done: 0,
                    size: 0,
                });
                let changed = layer.status != p.status;
                layer.status = p.status.clone();
                // Only the download phase counts; extraction re-reads the same bytes.
                if p.status == "Downloading" {
                    layer.size = p.total.unwrap_or(layer.size);
                    layer.done = p.current.unwrap_or(layer.done);
                } else if matches!(p.status.as_str(), "Download complete" | "Pull complete") {
                    layer.done = layer.size;
                }
                if let Some(bar) = &layer.bar {
                    bar.set_length(layer.size);
                    bar.set_position(layer.done);
                    bar.set_message(p.status.clone());
                    if matches!(p.status.as_str(), "Pull complete" | "Already exists") {
                        self.finish(bar);
                    }
                } else if changed && !matches!(p.status.as_str(), "Downloading" | "Extracting") {
                    lines.push(format!(
                        "Pulling {}: layer {}: {}",
                        p.image, p.layer, p.status
                    ));
                }
            }
            let (done, size) = pull
                .layers
                .values()
                .fold((0, 0), |(d, s), l| (d + l.done, s + l.size));
            if size > 0 {
                if self.multi.is_some() {
                    let total = pull.total.get_or_insert_with(|| {
                        let bar = self
                            .bar(
                                ProgressBar::new(size),
                                "  {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                            )
                            .unwrap_or_else(ProgressBar::hidden);
                        bar.set_message(format!("pulling {}", p.image));
                        bar
                    });
                    total.set_length(size);
                    total.set_position(done);
                } else if p.status == "Downloading" && due(&mut pull.last_plain) {
                    lines.push(format!(
                        "Pulling {}: {} of {} downloaded",
                        p.image,
                        human_bytes(done),
                        human_bytes(size)
                    ));
                }
            }
            if p.status.starts_with("Status:") {
                self.clear_pull(&mut state, &p.image);
            }
        }
        for text in lines {
            self.line(&text);
        }
    }

    fn pull_finished(&self, image: &str) {
        let mut state = self.lock();
        self.clear_pull(&mut state, image);
    }

    fn transfer(&self, label: &str, done: u64, total: Option<u64>) {
        if self.mode.quiet {
            return;
        }
        let mut text = None;
        {
            let mut state = self.lock();
            let transfer = state
                .transfers
                .entry(label.to_string())
                .or_insert_with(|| Transfer {
                    bar: self.bar(
                        ProgressBar::new(total.unwrap_or(0)).with_message(label.to_string()),
                        "  {msg} {bytes}/{total_bytes} {bytes_per_sec}",
                    ),
                    last_plain: None,
                });
            let finished = total.is_some_and(|t| done >= t);
            if let Some(bar) = &transfer.bar {
                if let Some(t) = total {
                    bar.set_length(t);
                }
                bar.set_position(done);
                if finished {
                    self.finish(bar);
                }
            } else if finished || due(&mut transfer.last_plain) {
                text = Some(match total {
                    Some(t) => format!("{label}: {} of {}", human_bytes(done), human_bytes(t)),
                    None => format!("{label}: {}", human_bytes(done)),
                });
            }
            if finished {
                state.transfers.remove(label);
            }
        }
        if let Some(text) = text {
            self.line(&text);
        }
    }
}

/// Pull events with these statuses are about one layer; the rest are about the image.
trait LayerStatus {
    fn status_is_layer(&self) -> bool;
}

impl LayerStatus for PullProgress {
    fn status_is_layer(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Pulling fs layer"
                | "Waiting"
                | "Downloading"
                | "Verifying Checksum"
                | "Download complete"
                | "Extracting"
                | "Pull complete"
                | "Already exists"
                | "Retrying"
        ) || self.status.starts_with("Retrying")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500_000), "1.5 MB");
    }

    #[test]
    fn layer_and_image_events_are_told_apart() {
        let event = |layer: &str, status: &str| PullProgress {
            image: "i".into(),
            layer: layer.into(),
            status: status.into(),
            current: None,
            total: None,
        };
        assert!(event("abc", "Downloading").status_is_layer());
        assert!(event("abc", "Already exists").status_is_layer());
        assert!(!event("v1", "Pulling from k/pull").status_is_layer());
        assert!(!event("", "Digest: sha256:00").status_is_layer());
    }

    #[test]
    fn plain_progress_is_throttled() {
        let mut last = None;
        assert!(due(&mut last));
        assert!(!due(&mut last));
    }
}
