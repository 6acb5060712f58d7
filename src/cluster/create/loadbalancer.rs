//! The external load balancer of clusters with several control planes: HAProxy in TCP mode,
//! every control plane a health-checked backend, reloaded in place (master-worker, SIGUSR2).

use super::{Ctx, Node};
use crate::cluster::API_SERVER_INTERNAL_PORT;
use crate::config::NodeRole;
use crate::docker::FileToWrite;
use anyhow::Context as _;

/// Where the load balancer's configuration lives in its container.
pub const CONFIG_PATH: &str = "/usr/local/etc/haproxy/haproxy.cfg";

/// The load balancer container's command: write a listening, backend-less config unless one
/// exists (so it survives restarts and works with images that ship none), then run HAProxy as
/// PID 1 in master-worker mode so SIGUSR2 reloads it without dropping the process.
pub const BOOTSTRAP_SCRIPT: &str = "\
mkdir -p /usr/local/etc/haproxy
if [ ! -s /usr/local/etc/haproxy/haproxy.cfg ]; then
printf '%s\\n' 'global' '  log stdout format raw local0' 'defaults' '  mode tcp' \
  '  timeout connect 5s' '  timeout client 1h' '  timeout server 1h' \
  'frontend control-plane' '  bind *:6443' '  default_backend kube-apiservers' \
  'backend kube-apiservers' > /usr/local/etc/haproxy/haproxy.cfg
fi
exec haproxy -W -db -f /usr/local/etc/haproxy/haproxy.cfg
";

/// HAProxy configuration forwarding the API server port to every control plane, with kind's
/// health-check timing (2 s interval, down after 2 failures, up after 1 success) on `/healthz`
/// over TLS. Names are resolved through Docker's embedded DNS, at start and on the fly.
pub fn haproxy_config(control_planes: &[String], ipv6: bool) -> String {
    let bind = if ipv6 {
        format!(":::{API_SERVER_INTERNAL_PORT} v4v6")
    } else {
        format!("*:{API_SERVER_INTERNAL_PORT}")
    };
    let family = if ipv6 { "ipv6" } else { "ipv4" };
    let mut cfg = format!(
        "global
  log stdout format raw local0
resolvers docker
  nameserver dns 127.0.0.11:53
  hold valid 1s
defaults
  log global
  mode tcp
  option tcplog
  option redispatch
  retries 3
  timeout connect 1s
  timeout client 1h
  timeout server 1h
frontend control-plane
  bind {bind}
  default_backend kube-apiservers
backend kube-apiservers
  option httpchk GET /healthz
  http-check expect status 200
  default-server inter 2s fall 2 rise 1 check check-ssl verify none resolvers docker init-addr last,libc,none resolve-prefer {family}
"
    );
    for name in control_planes {
        cfg.push_str(&format!(
            "  server {name} {name}:{API_SERVER_INTERNAL_PORT}\n"
        ));
    }
    cfg
}

/// Writes the configuration, checks it with `haproxy -c`, swaps it in and reloads.
pub(super) async fn configure(ctx: &Ctx, lb: &Node, nodes: &[Node]) -> anyhow::Result<()> {
    let mut backends: Vec<String> = nodes
        .iter()
        .filter(|n| n.role == NodeRole::ControlPlane)
        .map(|n| n.name.clone())
        .collect();
    backends.sort();
    let cfg = haproxy_config(&backends, ctx.config.networking.ip_family == "ipv6");
    let staged = format!("{CONFIG_PATH}.new");
    let file = FileToWrite {
        path: staged.clone(),
        contents: cfg.into_bytes(),
        mode: 0o644,
    };
    ctx.engine.write_files(&lb.name, &[file]).await?;
    let script = format!("haproxy -c -q -f {staged} && mv {staged} {CONFIG_PATH} && kill -USR2 1");
    ctx.engine
        .exec_ok(
            &lb.name,
            &["sh".to_string(), "-c".to_string(), script],
            None,
        )
        .await
        .context("failed to configure the external load balancer")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lists_every_control_plane_with_health_checks() {
        let cfg = haproxy_config(
            &["c-control-plane".into(), "c-control-plane2".into()],
            false,
        );
        assert!(cfg.contains("bind *:6443"));
        assert!(cfg.contains("  server c-control-plane c-control-plane:6443\n"));
        assert!(cfg.contains("  server c-control-plane2 c-control-plane2:6443\n"));
        assert!(cfg.contains("option httpchk GET /healthz"));
        assert!(cfg.contains("inter 2s fall 2 rise 1 check check-ssl verify none"));
        assert!(haproxy_config(&[], true).contains("bind :::6443 v4v6"));
    }

    #[test]
    fn bootstrap_keeps_an_existing_config() {
        assert!(BOOTSTRAP_SCRIPT.contains("if [ ! -s /usr/local/etc/haproxy/haproxy.cfg ]"));
        assert!(
            BOOTSTRAP_SCRIPT
                .trim_end()
                .ends_with("exec haproxy -W -db -f /usr/local/etc/haproxy/haproxy.cfg")
        );
    }
}
