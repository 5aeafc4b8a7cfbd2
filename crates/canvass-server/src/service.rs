//! Application services: the rules that need the store (a county's parent must exist and be a
//! state, the administrator's password must not be a default one). The admin API and the CLI
//! both call these, so a rule holds whichever way a change arrives.

use canvass_core::{
    demo,
    id::JurisdictionId,
    jurisdiction::{Jurisdiction, Precinct},
};
use canvass_crypto::{SecretString, Share, generate_password};
use canvass_store::Store;
use time::Date;

use canvass_core::audit::Action;

use crate::{
    ServerError, keys,
    keys::KeyRings,
    ledger::{Audit, target},
    voters,
};

/// Adds a jurisdiction after checking that its parent exists and may hold it.
pub async fn add_jurisdiction(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &Jurisdiction,
) -> Result<(), ServerError> {
    let entry = audit.entry(Action::JurisdictionAdd).with_jurisdiction(&jurisdiction.id);
    let entry = target(entry, format!("jurisdiction:{}", jurisdiction.id))?;
    audit.run(entry, add_jurisdiction_unrecorded(store, jurisdiction)).await
}

async fn add_jurisdiction_unrecorded(store: &dyn Store, jurisdiction: &Jurisdiction) -> Result<(), ServerError> {
    let parent_kind = match &jurisdiction.parent {
        None => None,
        Some(parent) => Some(
            store
                .jurisdiction(parent)
                .await?
                .ok_or_else(|| ServerError::UnknownReference(format!("parent jurisdiction `{parent}` does not exist")))?
                .kind,
        ),
    };
    jurisdiction.kind.check_parent(parent_kind)?;
    store.insert_jurisdiction(jurisdiction).await?;
    crate::lookup_cache::note_change();
    Ok(())
}

/// Adds a precinct to an existing jurisdiction.
pub async fn add_precinct(store: &dyn Store, audit: &Audit, precinct: &Precinct) -> Result<(), ServerError> {
    let entry = audit.entry(Action::PrecinctAdd).with_jurisdiction(&precinct.jurisdiction);
    let entry = target(entry, format!("precinct:{}", precinct.id))?;
    audit
        .run(entry, async {
            require_jurisdiction(store, &precinct.jurisdiction).await?;
            store.insert_precinct(precinct).await?;
            crate::lookup_cache::note_change();
            Ok(())
        })
        .await
}

/// The jurisdiction, or a clear "does not exist" naming it.
pub async fn require_jurisdiction(store: &dyn Store, id: &JurisdictionId) -> Result<Jurisdiction, ServerError> {
    store
        .jurisdiction(id)
        .await?
        .ok_or_else(|| ServerError::UnknownReference(format!("jurisdiction `{id}` does not exist")))
}

/// What loading the demo made, including the secrets a newcomer needs to try the key
/// commands: each jurisdiction's passphrase and one county's 2-of-3 shares.
#[derive(Debug)]
pub struct DemoLoaded {
    pub content: demo::DemoContent,
    pub passphrases: Vec<(JurisdictionId, SecretString)>,
    pub shares: (JurisdictionId, Vec<Share>),
    /// Demo staff, one per role, with their generated passwords (printed once by the demo).
    pub staff: Vec<DemoStaff>,
}

/// A demo staff account.
#[derive(Debug)]
pub struct DemoStaff {
    pub username: canvass_core::credential::Username,
    pub role: canvass_core::access::StaffRole,
    /// None: the whole node.
    pub jurisdiction: Option<JurisdictionId>,
    pub password: SecretString,
}

/// The row count the demo's blind indexes are sized for: a small county.
const DEMO_PROJECTED_VOTERS: u64 = 50_000;

/// Loads the built-in demo (see `canvass_core::demo`) into an empty store: every jurisdiction
/// gets a key ring (left unsealed in `rings`) and each county's voters are sealed under its own.
pub async fn load_demo(
    store: &dyn Store,
    audit: &Audit,
    rings: &KeyRings,
    today: Date,
    seed: u64,
) -> Result<DemoLoaded, ServerError> {
    let content = demo::content(today, seed)?;
    audit.record(&audit.entry(Action::DemoLoad)).await?;
    for jurisdiction in &content.jurisdictions {
        add_jurisdiction(store, audit, jurisdiction).await?;
    }
    for precinct in &content.precincts {
        add_precinct(store, audit, precinct).await?;
    }
    let entry = audit.entry(Action::ElectionAdd).with_jurisdiction(&content.election.jurisdiction);
    let entry = target(entry, format!("election:{}", content.election.id))?;
    let definition = crate::demo_results::definition(&content);
    audit.run(entry, async { Ok(store.insert_election_definition(&definition).await?) }).await?;
    let mut passphrases = Vec::new();
    let mut shares = None;
    for jurisdiction in &content.jurisdictions {
        let passphrase = generate_password(4)?;
        let ring =
            keys::create_key_ring(store, audit, &jurisdiction.id, passphrase.clone(), DEMO_PROJECTED_VOTERS).await?;
        if shares.is_none() && jurisdiction.kind == canvass_core::jurisdiction::JurisdictionKind::County {
            shares = Some((jurisdiction.id.clone(), keys::split(store, audit, &ring, 2, 3).await?));
        }
        rings.insert(jurisdiction.id.clone(), ring)?;
        passphrases.push((jurisdiction.id.clone(), passphrase));
    }
    for county in
        content.jurisdictions.iter().filter(|j| j.kind == canvass_core::jurisdiction::JurisdictionKind::County)
    {
        let roll: Vec<_> = content.voters.iter().filter(|voter| voter.county == county.id).cloned().collect();
        voters::add_voters(store, audit, rings, &county.id, &roll).await?;
    }
    let shares = shares.ok_or_else(|| ServerError::Internal("the demo has no county".into()))?;
    let staff = add_demo_staff(store, audit, &shares.0).await?;
    crate::demo_results::load(store, audit, &content, seed).await?;
    Ok(DemoLoaded { content, passphrases, shares, staff })
}

/// One account per role in the first county (the auditor and observer node-wide), each with an
/// `@examplia.invalid` address so notifications show in the outbox, and one two-person request
/// waiting so the approvals page has something to approve.
async fn add_demo_staff(
    store: &dyn Store,
    audit: &Audit,
    county: &JurisdictionId,
) -> Result<Vec<DemoStaff>, ServerError> {
    use canvass_core::{
        access::{Grant, RequestKind, RequestStatus, StaffRole},
        credential::{EmailAddress, Username},
    };
    let accounts = [
        ("county-admin", StaffRole::CountyAdministrator, Some(county.clone())),
        ("deputy-admin", StaffRole::CountyAdministrator, Some(county.clone())),
        ("clerk", StaffRole::RegistrationClerk, Some(county.clone())),
        ("reporter", StaffRole::ResultsReporter, Some(county.clone())),
        ("auditor", StaffRole::Auditor, None),
        ("observer", StaffRole::Observer, None),
    ];
    let mut staff = Vec::new();
    for (name, role, jurisdiction) in accounts {
        let username = Username::parse(name)?;
        let password = generate_password(4)?;
        let email = EmailAddress::parse(&format!("{name}@examplia.invalid"))?;
        crate::staff::add_account(store, audit, &username, Some(email), password.clone()).await?;
        crate::staff::grant(store, audit, &username, &Grant::permanent(role, jurisdiction.clone())).await?;
        staff.push(DemoStaff { username, role, jurisdiction, password });
    }
    let now = canvass_core::audit::now_millis();
    let request = canvass_store::StoredRequest {
        id: "req-demo-export".to_owned(),
        kind: RequestKind::ExportVoters,
        requester: Username::parse("county-admin")?,
        jurisdiction: county.clone(),
        subject: String::new(),
        justification: "Demo: the county's list-maintenance vendor needs this month's file".to_owned(),
        created_at: now,
        expires_at: now + 24 * 3_600_000,
        status: RequestStatus::Pending,
        approver: None,
        decided_at: None,
    };
    let entry =
        target(audit.entry(Action::RequestCreate), format!("request:{}", request.id))?.with_jurisdiction(county);
    let entry = entry.with_justification(&request.justification)?;
    audit.run(entry, async { Ok(store.insert_request(&request).await?) }).await?;
    Ok(staff)
}
