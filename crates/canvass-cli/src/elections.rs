//! `canvass election`: election definitions. `import` reads a NIST SP 1500-100 v2 document or
//! the simple CSV layout for a state or county and stores it (a staff member allowed
//! `elections.define` signs in); `list` and `show` print what is defined (public data, read at
//! the node's shell like `jurisdiction list`).

use std::{path::Path, path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use canvass_core::{
    access::Operation,
    id::{ElectionId, JurisdictionId},
    results::ElectionDefinition,
};
use canvass_formats::election_definition::DefinitionFormat;
use canvass_server::election_import;
use clap::{Args, Subcommand, ValueEnum};

use crate::{
    data_dir,
    sign_in::{self, StaffSignIn},
};

#[derive(Debug, Subcommand)]
pub enum ElectionCommand {
    /// Import an election's definition (contests, choices, counties, precincts and which
    /// precincts vote on which contest) for a state or county. A file with any problem is
    /// refused whole, every problem listed, and nothing changes; importing the same
    /// definition again changes nothing.
    Import(ElectionImportArguments),
    /// List the node's elections by day.
    List,
    /// Show an election's definition: contests with their choices, counties and precincts.
    Show {
        /// The election's id.
        election: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ElectionFormat {
    /// NIST SP 1500-100 v2 XML (a pre-election or results report).
    NistXml,
    /// NIST SP 1500-100 v2 JSON.
    NistJson,
    /// The simple CSV layout (see the README).
    Csv,
}

impl From<ElectionFormat> for DefinitionFormat {
    fn from(format: ElectionFormat) -> Self {
        match format {
            ElectionFormat::NistXml => Self::NistXml,
            ElectionFormat::NistJson => Self::NistJson,
            ElectionFormat::Csv => Self::Csv,
        }
    }
}

#[derive(Debug, Args)]
pub struct ElectionImportArguments {
    /// The state or county whose election it is.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_enum)]
    pub format: ElectionFormat,
    /// The election's id; made from its name and day when absent.
    #[arg(long, value_name = "ID")]
    pub election: Option<String>,
    /// The definition file.
    pub file: PathBuf,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

pub async fn run(data: &Path, command: ElectionCommand) -> anyhow::Result<ExitCode> {
    match command {
        ElectionCommand::Import(arguments) => import(data, &arguments).await,
        ElectionCommand::List => list(data).await,
        ElectionCommand::Show { election } => show(data, &election).await,
    }
}

async fn import(data: &Path, arguments: &ElectionImportArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let election = arguments.election.as_deref().map(ElectionId::parse).transpose()?;
    let format = DefinitionFormat::from(arguments.format);
    if !arguments.file.is_file() {
        bail!("{} is not a file", arguments.file.display());
    }
    let bytes = std::fs::read(&arguments.file).with_context(|| format!("cannot read {}", arguments.file.display()))?;
    // A file of the wrong format is refused before anyone signs in (no second-factor code spent).
    election_import::check_format(format, &bytes)?;
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        // Every problem of the file is listed before sign-in too.
        election_import::read_definition(store.as_ref(), &jurisdiction, format, &bytes, election.clone()).await?;
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::DefineElections, &jurisdiction).await?;
        let imported = election_import::import_definition(
            store.as_ref(),
            &signed_in.audit,
            &jurisdiction,
            format,
            &bytes,
            election,
        )
        .await?;
        let definition = &imported.definition;
        if imported.unchanged {
            println!("Election {} is already defined exactly so: nothing changed.", definition.election.id);
        } else {
            println!(
                "Defined election {} from {}: {} contests, {} precincts in {} counties.",
                definition.election.id,
                arguments.file.display(),
                definition.contests.len(),
                definition.precincts.len(),
                definition.counties.len()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

async fn list(data: &Path) -> anyhow::Result<ExitCode> {
    let (_, store) = data_dir::open_existing(data).await?;
    let elections = store.elections(None).await;
    store.close().await;
    let elections = elections?;
    if elections.is_empty() {
        println!("No elections yet. Import a definition with `canvass election import`.");
    }
    for election in elections {
        println!(
            "{} {} [{}] {} ({})",
            election.date,
            election.id,
            election.kind.as_str(),
            election.name,
            election.jurisdiction
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(data: &Path, election: &str) -> anyhow::Result<ExitCode> {
    let id = ElectionId::parse(election)?;
    let (_, store) = data_dir::open_existing(data).await?;
    let definition = store.election_definition(&id).await;
    store.close().await;
    let Some(definition) = definition? else {
        bail!("no election `{id}` (canvass election list shows them)");
    };
    print_definition(&definition);
    Ok(ExitCode::SUCCESS)
}

fn print_definition(definition: &ElectionDefinition) {
    let election = &definition.election;
    println!(
        "{} ({}, {} election on {}, for {})",
        election.name,
        election.id,
        election.kind.as_str(),
        election.date,
        election.jurisdiction
    );
    println!("{} contests:", definition.contests.len());
    for contest in &definition.contests {
        let precincts = definition.coverage.get(&contest.id).map_or(0, |precincts| precincts.len());
        println!(
            "  {} [{}, vote for {}, {precincts} precincts] {}",
            contest.name,
            contest.kind.as_str(),
            contest.vote_for.get(),
            contest.id
        );
        for choice in &contest.choices {
            match &choice.party {
                Some(party) => println!("    - {} ({party})", choice.name),
                None => println!("    - {}", choice.name),
            }
        }
    }
    println!("{} counties:", definition.counties.len());
    for county in &definition.counties {
        let precincts: Vec<&str> = definition
            .precincts
            .iter()
            .filter(|precinct| precinct.jurisdiction == county.id)
            .map(|precinct| precinct.name.as_str())
            .collect();
        println!("  {} ({}): {} precincts: {}", county.name, county.id, precincts.len(), precincts.join(", "));
    }
}
