//! `journeyprobe rules` (being written).

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_a: Args) -> i32 {
    super::EXIT_CONFIG
}
