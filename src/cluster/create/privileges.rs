//! Which security the nodes get: `--privileged` as kind runs them, or, on engines that refuse
//! it, the capability set their runtime can grant. Finding that set costs a failed create, a
//! probe container and test creates, so the answer is remembered per engine (ID and version) in
//! the user's cache directory; a create that fails with a remembered set probes again.

use super::Ctx;
use super::nodes::tracked;
use super::plan::CREATE_ID_LABEL;
use crate::cluster::HELPER_LABEL;
use crate::docker::{ContainerSpec, DockerError, EngineInfo, Security};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::OnceCell;

/// Shared by the nodes of one create: what the engine allows, found once.
pub(super) struct Privileges {
    /// The set remembered from an earlier create, until it fails.
    remembered: Mutex<Option<Security>>,
    /// The engine refused `--privileged` in this run.
    refused: AtomicBool,
    /// The refusal warning was shown.
    warned: AtomicBool,
    /// The set probed in this run.
    probed: OnceCell<Security>,
    /// Where the answer is remembered (`None`: no cache directory).
    cache: Option<PathBuf>,
}

/// How a node's container should be asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Choice {
    /// The security to create it with.
    pub security: Security,
    /// Taken from the cache: a refusal means the cache may be stale.
    pub remembered: bool,
}

impl Privileges {
    /// Loads what was remembered for this engine (a missing or unreadable cache is ignored).
    pub fn load(ctx: &Ctx) -> Privileges {
        let cache = ctx.request.cache_dir.as_ref().map(|d| d.join(CACHE_FILE));
        let remembered = cache.as_deref().and_then(|path| {
            let caps = remembered_capabilities(path, &ctx.info)?;
            ctx.reporter.debug(
                1,
                &format!(
                    "engine refuses --privileged (remembered in {}); using {} capabilities",
                    path.display(),
                    caps.len()
                ),
            );
            Some(restricted(ctx, caps))
        });
        Privileges {
            remembered: Mutex::new(remembered),
            refused: AtomicBool::new(false),
            warned: AtomicBool::new(false),
            probed: OnceCell::new(),
            cache,
        }
    }

    /// The security for a node planned as `--privileged` (other plans are kept as they are).
    pub async fn choose(&self, ctx: &Ctx, image: &str) -> anyhow::Result<Choice> {
        let remembered = self
            .remembered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(security) = remembered {
            self.warn(ctx, &security, "remembered for this engine");
            return Ok(Choice {
                security,
                remembered: true,
            });
        }
        if self.refused.load(Ordering::SeqCst) {
            let security = self.probe(ctx, image).await?;
            return Ok(Choice {
                security,
                remembered: false,
            });
        }
        Ok(Choice {
            security: Security::Privileged,
            remembered: false,
        })
    }

    /// The engine refused `--privileged`: probe (once) what it allows instead, and remember it.
    pub async fn refused(&self, ctx: &Ctx, image: &str, why: &str) -> anyhow::Result<Security> {
        self.refused.store(true, Ordering::SeqCst);
        let security = self.probe(ctx, image).await?;
        self.warn(ctx, &security, privileged_refusal(why));
        Ok(security)
    }

    /// The engine granted `--privileged` after a remembered set failed: drop its entry from
    /// the cache file too, so later creates do not try the stale set first.
    pub fn forget_on_disk(&self, ctx: &Ctx) {
        let Some(path) = &self.cache else {
            return;
        };
        if let Err(e) = forget_engine(path, &ctx.info) {
            ctx.reporter
                .debug(1, &format!("could not update {}: {e}", path.display()));
        }
    }

    /// A node failed to start with the remembered set: forget it; the next choice probes.
    pub fn forget(&self, ctx: &Ctx, why: &str) {
        let had = self
            .remembered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if had.is_some() {
            ctx.reporter.debug(
                1,
                &format!("the remembered capability set failed ({why}); probing the engine again"),
            );
        }
    }

    async fn probe(&self, ctx: &Ctx, image: &str) -> anyhow::Result<Security> {
        let security = self
            .probed
            .get_or_try_init(|| async {
                let held = probe_capabilities(ctx, image).await?;
                let capabilities = known_capabilities(ctx, image, held).await?;
                if let Some(path) = &self.cache {
                    let path = path.clone();
                    let info = ctx.info.clone();
                    let caps = capabilities.clone();
                    let stored = crate::util::blocking(move || remember(&path, &info, &caps)).await;
                    if let Err(e) = stored {
                        ctx.reporter
                            .debug(1, &format!("could not remember the capability set: {e}"));
                    }
                }
                anyhow::Ok(restricted(ctx, capabilities))
            })
            .await?;
        Ok(security.clone())
    }

    fn warn(&self, ctx: &Ctx, security: &Security, why: &str) {
        if let Security::Restricted { capabilities, .. } = security
            && !self.warned.swap(true, Ordering::SeqCst)
        {
            ctx.reporter.warn(&format!(
                "the Docker engine refused --privileged ({why}); creating nodes with the {} capabilities it allows instead",
                capabilities.len()
            ));
        }
    }
}

fn restricted(ctx: &Ctx, capabilities: Vec<String>) -> Security {
    Security::Restricted {
        capabilities,
        host_cgroups: ctx.info.cgroup_version != "2",
    }
}

const CACHE_FILE: &str = "engines.json";
/// Bumped when the meaning of an entry changes; other versions are ignored.
const CACHE_VERSION: u32 = 1;

/// What the cache file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct EngineCache {
    version: u32,
    /// By `<engine ID> <engine version>`.
    engines: BTreeMap<String, EngineEntry>,
}

/// What one engine allows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct EngineEntry {
    /// Always `false` today: only refusals are worth remembering.
    privileged: bool,
    /// The capabilities it grants instead.
    capabilities: Vec<String>,
}

fn engine_key(info: &EngineInfo) -> Option<String> {
    (!info.id.is_empty()).then(|| format!("{} {}", info.id, info.server_version))
}

/// Parses the cache; anything unreadable counts as empty (a cache is never fatal).
fn parse_cache(text: &str) -> EngineCache {
    serde_json::from_str::<EngineCache>(text)
        .ok()
        .filter(|c| c.version == CACHE_VERSION)
        .unwrap_or_default()
}

fn remembered_capabilities(path: &Path, info: &EngineInfo) -> Option<Vec<String>> {
    let key = engine_key(info)?;
    let file = std::fs::File::open(path).ok()?;
    let text = crate::input::read_limited(file, CACHE_LIMIT).ok()?;
    let entry = parse_cache(&String::from_utf8_lossy(&text))
        .engines
        .remove(&key)?;
    let valid = !entry.privileged
        && !entry.capabilities.is_empty()
        && entry.capabilities.iter().all(|c| known_capability_name(c));
    valid.then_some(entry.capabilities)
}

/// More than this is not a cache kindling wrote.
const CACHE_LIMIT: u64 = 1 << 20;

/// Records `capabilities` for this engine (read, update, write to a temporary file, rename).
fn remember(path: &Path, info: &EngineInfo, capabilities: &[String]) -> std::io::Result<()> {
    let Some(key) = engine_key(info) else {
        return Ok(());
    };
    let mut cache = std::fs::read(path)
        .map(|t| parse_cache(&String::from_utf8_lossy(&t)))
        .unwrap_or_default();
    cache.version = CACHE_VERSION;
    cache.engines.insert(
        key,
        EngineEntry {
            privileged: false,
            capabilities: capabilities.to_vec(),
        },
    );
    write_cache(path, &cache)
}

/// Writes the cache atomically: a temporary file in the same directory, then a rename.
fn write_cache(path: &Path, cache: &EngineCache) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&mut tmp, cache).map_err(std::io::Error::other)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Removes this engine's entry from the cache file (a missing file is fine).
fn forget_engine(path: &Path, info: &EngineInfo) -> std::io::Result<()> {
    let Some(key) = engine_key(info) else {
        return Ok(());
    };
    let mut cache = match std::fs::read(path) {
        Ok(text) => parse_cache(&String::from_utf8_lossy(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if cache.engines.remove(&key).is_none() {
        return Ok(());
    }
    write_cache(path, &cache)
}

fn known_capability_name(name: &str) -> bool {
    name.strip_prefix("CAP_")
        .is_some_and(|n| CAPABILITIES.contains(&n))
}

/// The runtime's answer when it cannot grant every capability `--privileged` asks for.
pub(super) fn refuses_privileged(err: &DockerError) -> bool {
    refuses_privileged_message(&err.message())
}

/// [`refuses_privileged`] on the engine's message.
pub(super) fn refuses_privileged_message(message: &str) -> bool {
    message.contains("apply caps")
}

/// Asks the engine which capabilities its runtime holds: a throwaway container in the host PID
/// namespace reads the bounding set of its parent, the runtime shim that would start the nodes.
async fn probe_capabilities(ctx: &Ctx, image: &str) -> anyhow::Result<Vec<String>> {
    let mut spec = ContainerSpec::new(
        &format!("{}-capability-probe-{}", ctx.name, super::random_id()),
        image,
        "none",
    );
    // The name grows with the cluster's; a hostname over 64 characters fails sethostname(2).
    spec.hostname = "capability-probe".into();
    spec.tty = false;
    spec.restart_on_failure = None;
    spec.pid_host = true;
    spec.entrypoint = Some(vec![
        "sh".into(),
        "-c".into(),
        "grep CapBnd /proc/$PPID/status".into(),
    ]);
    spec.labels
        .insert(CREATE_ID_LABEL.to_string(), ctx.create_id.clone());
    spec.labels
        .insert(HELPER_LABEL.to_string(), ctx.name.clone());
    let engine = ctx.engine.clone();
    let (code, log) = tracked(ctx, async move { engine.run_to_completion(&spec).await }).await?;
    let text = String::from_utf8_lossy(&log);
    let caps = (code == 0).then(|| parse_cap_bnd(&text)).flatten();
    caps.ok_or_else(|| {
        anyhow::anyhow!(
            "the Docker engine refused --privileged and kindling could not read which capabilities it allows (exit {code}): {}",
            text.trim()
        )
    })
}

/// Drops the capabilities the engine does not know by name (older engines reject e.g.
/// `CAP_PERFMON`): creates, without starting, a container asking for them, and removes each
/// name the engine reports as unknown until it accepts the set.
async fn known_capabilities(
    ctx: &Ctx,
    image: &str,
    mut caps: Vec<String>,
) -> anyhow::Result<Vec<String>> {
    for _ in 0..CAPABILITIES.len() {
        let mut spec = ContainerSpec::new(
            &format!("{}-capability-check-{}", ctx.name, super::random_id()),
            image,
            "none",
        );
        spec.hostname = "capability-check".into();
        spec.restart_on_failure = None;
        spec.security = Security::Restricted {
            capabilities: caps.clone(),
            host_cgroups: false,
        };
        spec.labels
            .insert(CREATE_ID_LABEL.to_string(), ctx.create_id.clone());
        spec.labels
            .insert(HELPER_LABEL.to_string(), ctx.name.clone());
        let engine = ctx.engine.clone();
        let created = tracked(ctx, async move {
            let result = engine.create_container(&spec).await;
            if result.is_ok() {
                engine.remove_container(&spec.name).await?;
            }
            result
        })
        .await;
        match created {
            Ok(_) => return Ok(caps),
            Err(e) => match unknown_capability(&e.message()) {
                Some(name) if caps.contains(&name) => caps.retain(|c| c != &name),
                _ => return Err(e.into()),
            },
        }
    }
    anyhow::bail!("the Docker engine accepted none of the capabilities its runtime holds")
}

/// The capability named in the engine's `unknown capability: "CAP_X"` answer.
fn unknown_capability(message: &str) -> Option<String> {
    let rest = &message[message.find("unknown capability: ")? + "unknown capability: ".len()..];
    Some(rest.trim().trim_matches('"').split('"').next()?.to_string())
}

/// The part of the runtime's error that says why `--privileged` failed.
fn privileged_refusal(message: &str) -> &str {
    const KNOWN: &str = "unable to apply caps: operation not permitted";
    if message.contains(KNOWN) {
        KNOWN
    } else {
        message.lines().last().unwrap_or(message).trim()
    }
}

/// Linux capability names by bit number.
const CAPABILITIES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Parses `CapBnd:\t000001fffeffffff` into `CAP_…` names (unknown high bits ignored).
fn parse_cap_bnd(status: &str) -> Option<Vec<String>> {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))?
        .trim();
    let mask = u64::from_str_radix(hex, 16).ok()?;
    let caps: Vec<String> = CAPABILITIES
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1u64 << bit) != 0)
        .map(|(_, name)| format!("CAP_{name}"))
        .collect();
    (!caps.is_empty()).then_some(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_restricted_bounding_set() {
        let caps = parse_cap_bnd("Name:\tcontainerd-shim\nCapBnd:\t000001fffeffffff\n").unwrap();
        assert_eq!(caps.len(), 40);
        assert!(!caps.contains(&"CAP_SYS_RESOURCE".to_string()));
        assert!(caps.contains(&"CAP_SYS_ADMIN".to_string()));
        assert!(caps.contains(&"CAP_CHECKPOINT_RESTORE".to_string()));
        assert_eq!(parse_cap_bnd("no such line"), None);
    }

    #[test]
    fn engine_answers() {
        assert_eq!(
            unknown_capability("invalid CapAdd: unknown capability: \"CAP_PERFMON\"").as_deref(),
            Some("CAP_PERFMON")
        );
        assert_eq!(unknown_capability("something else"), None);
        assert_eq!(
            privileged_refusal(
                "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: unable to apply caps: operation not permitted: unknown"
            ),
            "unable to apply caps: operation not permitted"
        );
    }

    #[test]
    fn cache_round_trip_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(CACHE_FILE);
        let info = EngineInfo {
            id: "ABCD:EFGH".into(),
            server_version: "20.10.24".into(),
            ..Default::default()
        };
        assert_eq!(remembered_capabilities(&path, &info), None);
        let caps = vec!["CAP_CHOWN".to_string(), "CAP_SYS_ADMIN".to_string()];
        remember(&path, &info, &caps).unwrap();
        assert_eq!(remembered_capabilities(&path, &info), Some(caps.clone()));
        // Another engine, or the same engine upgraded, has no entry.
        let upgraded = EngineInfo {
            server_version: "20.10.25".into(),
            ..info.clone()
        };
        assert_eq!(remembered_capabilities(&path, &upgraded), None);
        remember(&path, &upgraded, &caps[..1]).unwrap();
        assert_eq!(remembered_capabilities(&path, &info), Some(caps.clone()));
        assert_eq!(
            remembered_capabilities(&path, &upgraded),
            Some(caps[..1].to_vec())
        );
        // Corrupt, foreign or nonsensical content is ignored, and a new answer replaces it.
        for bad in [
            "not json",
            "{\"version\": 99, \"engines\": {}}",
            "{\"version\": 1, \"engines\": {\"ABCD:EFGH 20.10.24\": {\"privileged\": false, \"capabilities\": [\"rm -rf\"]}}}",
            "{\"version\": 1, \"engines\": {\"ABCD:EFGH 20.10.24\": {\"privileged\": false, \"capabilities\": []}}}",
        ] {
            std::fs::write(&path, bad).unwrap();
            assert_eq!(remembered_capabilities(&path, &info), None, "{bad}");
            remember(&path, &info, &caps).unwrap();
            assert_eq!(remembered_capabilities(&path, &info), Some(caps.clone()));
        }
        // An engine that now grants --privileged loses its entry; others keep theirs.
        remember(&path, &upgraded, &caps[..1]).unwrap();
        forget_engine(&path, &info).unwrap();
        assert_eq!(remembered_capabilities(&path, &info), None);
        assert_eq!(
            remembered_capabilities(&path, &upgraded),
            Some(caps[..1].to_vec())
        );
        forget_engine(&dir.path().join("missing.json"), &info).unwrap();
        // A directory where the file should be: unreadable, and remembering fails without panic.
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert_eq!(remembered_capabilities(&path, &info), None);
        assert!(remember(&path, &info, &caps).is_err());
    }
}
