//! `canvass voters`: the voter roll's files. `generate` writes a synthetic North Carolina
//! layout file (every person made up) for trying imports and measuring them.

use std::{io::BufWriter, path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum VotersCommand {
    /// Write a synthetic ncvoter file (tab-delimited NC layout, made-up people): the same seed
    /// gives the same file.
    Generate(GenerateArguments),
}

#[derive(Debug, Args)]
pub struct GenerateArguments {
    /// How many voters.
    #[arg(long, default_value_t = 1_000)]
    pub rows: u64,
    /// The generator's seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Add the four confidential columns a county's internal export carries (birth_date, ssn4,
    /// drivers_lic_num, email).
    #[arg(long)]
    pub confidential: bool,
    /// Where to write it (refused if the file exists).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub fn run(command: VotersCommand) -> anyhow::Result<ExitCode> {
    match command {
        VotersCommand::Generate(arguments) => generate(&arguments),
    }
}

fn generate(arguments: &GenerateArguments) -> anyhow::Result<ExitCode> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&arguments.out)
        .with_context(|| format!("cannot create {} (it must not exist yet)", arguments.out.display()))?;
    let mut output = BufWriter::with_capacity(1 << 20, file);
    canvass_formats::ncvoter::generate(arguments.seed, arguments.rows, arguments.confidential, &mut output)
        .with_context(|| format!("writing {}", arguments.out.display()))?;
    eprintln!(
        "Wrote {} synthetic voters{} to {}.",
        arguments.rows,
        if arguments.confidential { " with the confidential columns" } else { "" },
        arguments.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
