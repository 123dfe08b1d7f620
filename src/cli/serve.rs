//! `journeyprobe serve` (being written).

#[derive(clap::Args, Debug)]
pub struct Args {}

pub async fn run(_a: Args) -> i32 {
    super::EXIT_CONFIG
}
