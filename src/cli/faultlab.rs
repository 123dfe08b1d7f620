//! `journeyprobe fault-lab` — serve the fixture site until Ctrl-C.

use std::net::SocketAddr;

use super::ExitCode;
use crate::faultlab::{FaultLab, FaultLabOptions};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on (loopback by default; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The password the login form accepts.
    #[arg(long, env = "LOGIN_PASSWORD", default_value = crate::faultlab::DEFAULT_PASSWORD, hide_env_values = true)]
    pub password: String,
    /// Serve the dashboard's script from this S3 bucket URL (it must hold dashboard.js),
    /// so deleting the bucket breaks the dashboard the way it breaks a single-page app.
    #[arg(long, value_name = "URL")]
    pub assets_url: Option<String>,
    /// Do not start the lab's S3 server (moto_server) and DNS server (dnsmasq), which it
    /// otherwise starts when they are installed.
    #[arg(long)]
    pub no_backends: bool,
}

pub async fn run(args: Args) -> ExitCode {
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "warning: listening on {}: /_faults has no authentication and switches servers; \
             keep the fault lab on loopback",
            args.listen
        );
    }
    let lab = match FaultLab::start_with(
        args.listen,
        FaultLabOptions {
            password: args.password,
            assets_url: args.assets_url,
            backends: !args.no_backends,
        },
    )
    .await
    {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return ExitCode::Usage;
        }
    };
    say!("fault lab at {}", lab.base_url());
    let mut env = format!("BASE_URL={}", lab.base_url());
    if let Some(s3) = lab.s3_endpoint().await {
        say!("assets bucket: {s3}/assets (the dashboard loads dashboard.js from it)");
        env.push_str(&format!(" ASSETS_ENDPOINT={s3}"));
    }
    if let Some(dns) = lab.dns_addr().await {
        say!("DNS: {dns} answers for app.fault-lab.test");
        env.push_str(&format!(" LAB_NAMESERVER={dns}"));
    }
    // The shipped journeys/login.yaml reads these for the site and the checks it stands on.
    say!("shipped journeys: {env} LOGIN_PASSWORD=… journeyprobe run journeys/");
    say!(
        "faults: curl {}/_faults   (POST a JSON object to change them, e.g. {{\"bucket_deleted\": true}}; POST /_faults/reset to clear)",
        lab.base_url()
    );
    // Any of the usual signals stops the lab and the servers it started.
    let interrupt = super::interrupt::Interrupt::install();
    interrupt.token().cancelled().await;
    lab.shutdown().await;
    ExitCode::Interrupted
}
