//! `journeyprobe fault-lab` — serve the fixture site until Ctrl-C.

use std::net::SocketAddr;

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
}

pub async fn run(args: Args) -> i32 {
    let lab = match FaultLab::start_with(
        args.listen,
        FaultLabOptions {
            password: args.password,
            assets_url: args.assets_url,
        },
    )
    .await
    {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return super::EXIT_CONFIG;
        }
    };
    say!("fault lab at {}", lab.base_url());
    say!(
        "faults: curl {}/_faults   (POST a JSON object to change them, POST /_faults/reset to clear)",
        lab.base_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    lab.shutdown().await;
    0
}
