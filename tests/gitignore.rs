//! What the commands write into a checkout by default is ignored by git, so trying
//! `journeyprobe demo` in a fresh clone leaves `git status` clean.

use clap::CommandFactory;
use journeyprobe::cli::Cli;

fn ignored() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.gitignore")).unwrap();
    text.lines()
        .map(|l| {
            l.trim()
                .trim_start_matches('/')
                .trim_end_matches('/')
                .to_string()
        })
        .collect()
}

#[test]
fn the_demo_data_dir_is_ignored_by_git() {
    let cli = Cli::command();
    let demo = cli.find_subcommand("demo").expect("a demo subcommand");
    let dir = demo
        .get_arguments()
        .find(|a| a.get_id() == "data_dir")
        .and_then(|a| a.get_default_values().first())
        .and_then(|v| v.to_str())
        .expect("demo --data-dir has a default")
        .to_string();
    assert!(
        ignored().contains(&dir),
        "{dir}/ (where `journeyprobe demo` writes by default) is not in .gitignore"
    );
}
