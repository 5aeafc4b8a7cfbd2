//! `canvass voters import --format vri-xml|vri-json` and `canvass voters export-vri`: NIST SP
//! 1500-102 requests into and out of a roll. The staff member signs in once and the key ring
//! opens here; each request file is imported on its own (a refused one writes nothing and does
//! not stop the others), through `canvass_server::vri_import`.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, bail};
use canvass_core::{
    absentee_request::AbsenteePeriod,
    access::Operation,
    id::{JurisdictionId, PrecinctId},
};
use canvass_server::{
    ballots::{self, AbsenteeRequestOutcome},
    uocava, vri_export,
    vri_import::{self, RegistrationChange, VriEncoding, VriOutcome, VriSettings},
};

use crate::{
    data_dir,
    keys::unseal_here,
    sign_in,
    voters::{ExportVriArguments, ImportArguments, VriFormat},
};

/// Exit status when nothing was refused but some absentee request covers no election on file
/// yet, so it recorded nothing. 1 means a request was refused; 2 is any command's error.
const ABSENTEE_NOT_RECORDED: u8 = 3;

/// The request files: the file given, or the directory's files of the encoding, by name.
fn request_files(path: &Path, encoding: VriEncoding) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    if !path.is_dir() {
        bail!("{} is not a file or a directory", path.display());
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).with_context(|| format!("cannot list {}", path.display()))? {
        let file = entry?.path();
        let matches = file
            .extension()
            .and_then(|extension| extension.to_str())
            .is_some_and(|extension| extension.eq_ignore_ascii_case(encoding.extension()));
        if matches && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    if files.is_empty() {
        bail!("{} holds no .{} file", path.display(), encoding.extension());
    }
    Ok(files)
}

fn describe_period(period: &AbsenteePeriod) -> String {
    match period {
        AbsenteePeriod::Election { date, .. } => format!("the election of {date}"),
        AbsenteePeriod::Permanent => "every election (permanent)".into(),
        AbsenteePeriod::Between { start, end } => format!("elections from {start} to {end}"),
        AbsenteePeriod::NextElection => "the next election (none named)".into(),
    }
}

pub async fn import(data: &Path, arguments: &ImportArguments, encoding: VriEncoding) -> anyhow::Result<ExitCode> {
    if arguments.add_places || arguments.report.is_some() {
        bail!(
            "--add-places and --report apply to voter files (ncvoter): a VRI request's county and precinct must exist, and each refusal is printed"
        );
    }
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let precinct = arguments
        .precinct
        .as_deref()
        .map(|text| PrecinctId::parse(text.trim()).map_err(|error| anyhow::anyhow!("--precinct: {error}")))
        .transpose()?;
    let files = request_files(&arguments.file, encoding)?;
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::WriteVoters, &jurisdiction).await?;
        let ring = unseal_here(store.as_ref(), &signed_in.audit, &jurisdiction, &arguments.unlock).await?;
        let settings = VriSettings { jurisdiction: jurisdiction.clone(), actor: signed_in.username.to_string(), precinct };
        let (mut refused, mut absentee) = (0usize, 0usize);
        for file in &files {
            let imported = match vri_import::read_file(file, encoding) {
                // A Federal Post Card Application: registration and the year's ballot request
                // together, on the UOCAVA path.
                Ok(read) if uocava::is_fpca(&read) => {
                    let received = match signed_in.authorize(store.as_ref(), Operation::RecordBallots, &jurisdiction).await
                    {
                        Ok(_) => uocava::receive_fpca(store.as_ref(), &signed_in.audit, &ring, &read, encoding, &settings)
                            .await
                            .map_err(anyhow::Error::from),
                        Err(error) => Err(error),
                    };
                    match received {
                        Ok(receipt) => println!(
                            "{}: FPCA of voter {} received ({} UOCAVA voter, ballots for {} by {}; {} election(s) on file).",
                            file.display(),
                            receipt.registration_number,
                            receipt.classification.as_str(),
                            receipt.year,
                            receipt.delivery.as_str(),
                            receipt.ballots.len()
                        ),
                        Err(error) => {
                            refused += 1;
                            eprintln!("{}: FPCA refused: {error:#}", file.display());
                        }
                    }
                    continue;
                }
                Ok(read) => {
                    vri_import::import_request(store.as_ref(), &signed_in.audit, &ring, &read, encoding, &settings)
                        .await
                }
                Err(error) => Err(error),
            };
            match imported {
                Ok(VriOutcome::Registration { registration_number, change }) => {
                    let change = match change {
                        RegistrationChange::Added => "added",
                        RegistrationChange::Updated => "updated (the earlier revision kept)",
                        RegistrationChange::Unchanged => "unchanged",
                    };
                    println!("{}: registration of voter {registration_number} {change}.", file.display());
                }
                Ok(VriOutcome::Absentee(request)) => {
                    let recorded = match signed_in.authorize(store.as_ref(), Operation::RecordBallots, &jurisdiction).await {
                        Ok(_) => ballots::record_absentee_request(store.as_ref(), &signed_in.audit, &request)
                            .await
                            .map_err(anyhow::Error::from),
                        Err(error) => Err(error),
                    };
                    match recorded {
                        Ok(outcomes) if outcomes.is_empty() => {
                            absentee += 1;
                            println!(
                                "{}: absentee request for voter {} recognized ({}, by {}), but no election on file is covered by it yet: nothing recorded.",
                                file.display(),
                                request.registration_number,
                                describe_period(&request.period),
                                request.delivery().as_str()
                            );
                        }
                        Ok(outcomes) => {
                            for outcome in outcomes {
                                let said = match outcome {
                                    AbsenteeRequestOutcome::Recorded(election) => {
                                        format!("absentee ballot requested for {election}")
                                    }
                                    AbsenteeRequestOutcome::AlreadyRequested(election) => {
                                        format!("already has an absentee ballot for {election} (unchanged)")
                                    }
                                };
                                println!(
                                    "{}: voter {} {said}, by {}.",
                                    file.display(),
                                    request.registration_number,
                                    request.delivery().as_str()
                                );
                            }
                        }
                        Err(error) => {
                            refused += 1;
                            eprintln!("{}: absentee request refused, nothing written: {error:#}", file.display());
                        }
                    }
                }
                Err(error) => {
                    refused += 1;
                    eprintln!("{}: refused, nothing written: {error}", file.display());
                }
            }
        }
        println!("{} request(s): {refused} refused, {absentee} absentee request(s) covering no election on file.", files.len());
        Ok(if refused > 0 {
            ExitCode::FAILURE
        } else if absentee > 0 {
            ExitCode::from(ABSENTEE_NOT_RECORDED)
        } else {
            ExitCode::SUCCESS
        })
    }
    .await;
    store.close().await;
    outcome
}

pub async fn export(data: &Path, arguments: &ExportVriArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let reason = vri_export::export_reason(arguments.reason.as_deref())
        .map_err(|_| {
            anyhow::anyhow!(
                "--reason TEXT is needed: why you export a voter's confidential fields is kept in the ledger"
            )
        })?
        .to_owned();
    let encoding = match arguments.format {
        VriFormat::Xml => VriEncoding::Xml,
        VriFormat::Json => VriEncoding::Json,
    };
    let number = arguments.registration_number.trim();
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::SearchVoters, &jurisdiction).await?;
        signed_in.authorize(store.as_ref(), Operation::ReadVoters, &jurisdiction).await?;
        let ring = unseal_here(store.as_ref(), &signed_in.audit, &jurisdiction, &arguments.unlock).await?;
        let request = vri_export::export_request(store.as_ref(), &ring, number).await?;
        canvass_server::voters::record_reads(&signed_in.audit, &jurisdiction, Some(&reason), std::iter::once(number))
            .await?;
        let body = vri_export::encode(&request, encoding)?;
        match &arguments.output {
            Some(path) => {
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
                file.write_all(&body)?;
                eprintln!("Wrote voter {number} to {} (a confidential read, in the ledger).", path.display());
            }
            None => std::io::stdout().lock().write_all(&body)?,
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}
