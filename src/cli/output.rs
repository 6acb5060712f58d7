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
/// In plain mode, progress lines for one transfer are printed at most this often.
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
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    status: Option<(String, Option<ProgressBar>)>,
    pulls: BTreeMap<String, PullDisplay>,
    multi: Option<MultiProgress>,
    transfers: BTreeMap<String, (Option<ProgressBar>, Instant)>,
}

struct PullDisplay {
    layers: BTreeMap<String, (Option<ProgressBar>, String, u64, u64)>,
    total_bar: Option<ProgressBar>,
    last_plain: Instant,
}

impl Output {
    /// Creates the reporter for a mode.
    pub fn new(mode: OutputMode) -> Self {
        Output {
            mode,
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
    fn line(&self, state: &State, text: &str) {
        if self.mode.quiet {
            return;
        }
        match (
            &state.multi,
            state.status.as_ref().and_then(|s| s.1.as_ref()),
        ) {
            (Some(multi), _) => {
                let _ = multi.println(text);
            }
            (None, Some(bar)) => bar.suspend(|| eprintln_safe(text)),
            _ => eprintln_safe(text),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.mode.smart {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn multi(&self, state: &mut State) -> MultiProgress {
        state
            .multi
            .get_or_insert_with(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
            .clone()
    }

    /// Prints an error the way kind does: `ERROR: <message>`, red word on a smart terminal.
    pub fn error(&self, message: &str) {
        let state = self.lock();
        let label = self.paint("31", "ERROR");
        // Errors are shown even in quiet mode (kindling's --quiet keeps errors).
        let text = format!("{label}: {message}");
        match state.status.as_ref().and_then(|s| s.1.as_ref()) {
            Some(bar) => bar.suspend(|| eprintln_safe(&text)),
            None => eprintln_safe(&text),
        }
    }

    /// Prints the output of a failed command below an error (kind's `Command Output:` block).
    pub fn command_output(&self, output: &str) {
        let label = self.paint("31", "Command Output");
        eprintln_safe(&format!("\n{label}: {output}"));
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

impl Reporter for Output {
    fn start(&self, title: &str) {
        self.end(true);
        if self.mode.quiet {
            return;
        }
        let mut state = self.lock();
        if self.mode.smart {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style.tick_strings(&[FRAMES.as_slice(), &[""]].concat()));
            }
            bar.set_message(format!("{title} "));
            bar.enable_steady_tick(Duration::from_millis(100));
            state.status = Some((title.to_string(), Some(bar)));
        } else {
            self.line(&state, &format!(" • {title}  ..."));
            state.status = Some((title.to_string(), None));
        }
    }

    fn end(&self, ok: bool) {
        let mut state = self.lock();
        let Some((title, bar)) = state.status.take() else {
            return;
        };
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let mark = if ok {
            self.paint("32", "✓")
        } else {
            self.paint("31", "✗")
        };
        self.line(&state, &format!(" {mark} {title}"));
    }

    fn info(&self, message: &str) {
        let state = self.lock();
        self.line(&state, message);
    }

    fn warn(&self, message: &str) {
        let state = self.lock();
        self.line(&state, &format!("WARNING: {message}"));
    }

    fn debug(&self, level: u8, message: &str) {
        if i32::from(level) <= self.mode.verbosity {
            let state = self.lock();
            self.line(&state, &format!("DEBUG: {message}"));
        }
    }

    fn pull(&self, p: &PullProgress) {
        if self.mode.quiet {
            return;
        }
        let mut state = self.lock();
        let multi = self.mode.smart.then(|| self.multi(&mut state));
        let mut printed = Vec::new();
        {
            let display = state
                .pulls
                .entry(p.image.clone())
                .or_insert_with(|| PullDisplay {
                    layers: BTreeMap::new(),
                    total_bar: multi.as_ref().map(|m| {
                        let bar = m.add(ProgressBar::new(0));
                        if let Ok(style) = ProgressStyle::with_template(
                            "  {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                        ) {
                            bar.set_style(style.progress_chars("=> "));
                        }
                        bar.set_message(format!("pulling {}", p.image));
                        bar
                    }),
                    last_plain: Instant::now() - PLAIN_PROGRESS_INTERVAL,
                });
            if p.layer.is_empty() || p.layer == ImageTag::of(&p.image) {
                printed.push(format!("Pulling {}: {}", p.image, p.status));
            } else {
                let entry = display.layers.entry(p.layer.clone()).or_insert_with(|| {
                    let bar = multi.as_ref().map(|m| {
                        let bar = m.insert_from_back(1, ProgressBar::new(0));
                        if let Ok(style) = ProgressStyle::with_template(
                            "    {prefix} {msg:<16} {bytes}/{total_bytes}",
                        ) {
                            bar.set_style(style);
                        }
                        bar.set_prefix(p.layer.clone());
                        bar
                    });
                    (bar, String::new(), 0, 0)
                });
                let status_changed = entry.1 != p.status;
                entry.1 = p.status.clone();
                // Only the download phase counts towards bytes; extraction re-reads the same data.
                if p.status == "Downloading" {
                    if let Some(total) = p.total {
                        entry.3 = total;
                    }
                    if let Some(current) = p.current {
                        entry.2 = current;
                    }
                } else if matches!(
                    p.status.as_str(),
                    "Download complete" | "Pull complete" | "Already exists"
                ) {
                    entry.2 = entry.3;
                }
                if let Some(bar) = &entry.0 {
                    bar.set_length(entry.3);
                    bar.set_position(entry.2);
                    bar.set_message(p.status.clone());
                    if p.status == "Pull complete" || p.status == "Already exists" {
                        bar.finish_and_clear();
                    }
                } else if status_changed && p.status != "Downloading" && p.status != "Extracting" {
                    printed.push(format!(
                        "Pulling {}: layer {}: {}",
                        p.image, p.layer, p.status
                    ));
                }
            }
            let (done, total) = display
                .layers
                .values()
                .fold((0, 0), |acc, l| (acc.0 + l.2, acc.1 + l.3));
            if let Some(bar) = &display.total_bar {
                bar.set_length(total);
                bar.set_position(done);
            } else if total > 0 && display.last_plain.elapsed() >= PLAIN_PROGRESS_INTERVAL {
                display.last_plain = Instant::now();
                printed.push(format!(
                    "Pulling {}: {} of {} downloaded",
                    p.image,
                    human_bytes(done),
                    human_bytes(total)
                ));
            }
            if p.status.starts_with("Status:") || p.status.starts_with("Digest:") {
                if let Some(bar) = display.total_bar.take() {
                    bar.finish_and_clear();
                }
                for (bar, ..) in display.layers.values() {
                    if let Some(bar) = bar {
                        bar.finish_and_clear();
                    }
                }
            }
        }
        for text in printed {
            self.line(&state, &text);
        }
    }

    fn transfer(&self, label: &str, done: u64, total: Option<u64>) {
        if self.mode.quiet {
            return;
        }
        let mut state = self.lock();
        let multi = self.mode.smart.then(|| self.multi(&mut state));
        let first = !state.transfers.contains_key(label);
        let entry = state.transfers.entry(label.to_string()).or_insert_with(|| {
            let bar = multi.map(|m| {
                let bar = m.add(ProgressBar::new(total.unwrap_or(0)));
                if let Ok(style) =
                    ProgressStyle::with_template("  {msg} {bytes}/{total_bytes} {bytes_per_sec}")
                {
                    bar.set_style(style);
                }
                bar.set_message(label.to_string());
                bar
            });
            (bar, Instant::now())
        });
        let finished = total.is_some_and(|t| done >= t);
        let mut text = None;
        if let Some(bar) = &entry.0 {
            if let Some(t) = total {
                bar.set_length(t);
            }
            bar.set_position(done);
            if finished {
                bar.finish_and_clear();
            }
        } else if first || finished || entry.1.elapsed() >= PLAIN_PROGRESS_INTERVAL {
            entry.1 = Instant::now();
            text = Some(match total {
                Some(t) => format!("{label}: {} of {}", human_bytes(done), human_bytes(t)),
                None => format!("{label}: {}", human_bytes(done)),
            });
        }
        if finished {
            state.transfers.remove(label);
        }
        if let Some(text) = text {
            self.line(&state, &text);
        }
    }
}

/// The engine reports image-level messages with the tag as "id"; recognise those.
struct ImageTag;

impl ImageTag {
    fn of(image: &str) -> String {
        crate::docker::ImageRef::parse(image)
            .tag
            .unwrap_or_else(|| "latest".to_string())
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
}
