//! `journeyprobe demo` — placeholder, filled in below.
#[derive(clap::Args, Debug)]
pub struct Args {}
pub async fn run(_a: Args) -> i32 {
    0
}
