//! Jurisdictions form a tree (state > county > municipality); precincts are reporting units
//! inside them. The tree rule lives here so the API, the CLI and imports all enforce it alike.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize};

use crate::{
    CoreError,
    id::{JurisdictionId, PrecinctId},
    name::Name,
};

/// The level of a jurisdiction in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JurisdictionKind {
    State,
    County,
    Municipality,
}

impl JurisdictionKind {
    pub const ALL: [JurisdictionKind; 3] = [Self::State, Self::County, Self::Municipality];

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "state" => Ok(Self::State),
            "county" => Ok(Self::County),
            "municipality" => Ok(Self::Municipality),
            _ => Err(CoreError::UnknownVariant {
                what: "jurisdiction kind",
                value: value.to_owned(),
                expected: "state, county, municipality",
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::County => "county",
            Self::Municipality => "municipality",
        }
    }

    /// Checks that a jurisdiction of this kind may sit under a parent of `parent` kind.
    /// A state is a root; a county sits under a state; a municipality under a county or, for
    /// states without county government of towns, directly under a state.
    pub fn check_parent(self, parent: Option<JurisdictionKind>) -> Result<(), CoreError> {
        let fail = |rule| {
            let problem = match parent {
                Some(kind) => format!("a {self} cannot sit under a {kind}"),
                None => format!("a {self} needs a parent"),
            };
            Err(CoreError::InvalidParent { problem, rule })
        };
        match (self, parent) {
            (Self::State, None) => Ok(()),
            (Self::State, Some(_)) => fail("a state is the top of the tree and has no parent"),
            (Self::County, Some(Self::State)) => Ok(()),
            (Self::County, _) => fail("a county's parent must be a state"),
            (Self::Municipality, Some(Self::State | Self::County)) => Ok(()),
            (Self::Municipality, _) => fail("a municipality's parent must be a county or a state"),
        }
    }
}

impl fmt::Display for JurisdictionKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A state, county or municipality hosted on this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jurisdiction {
    pub id: JurisdictionId,
    pub name: Name,
    pub kind: JurisdictionKind,
    pub parent: Option<JurisdictionId>,
}

/// A precinct: the smallest reporting unit, inside one jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precinct {
    pub id: PrecinctId,
    pub jurisdiction: JurisdictionId,
    pub name: Name,
}

/// Orders jurisdictions so every parent comes before its children and siblings sort by name:
/// the order a page or a listing shows them in.
pub fn tree_order(jurisdictions: &[Jurisdiction]) -> Vec<(usize, &Jurisdiction)> {
    fn visit<'a>(
        parent: Option<&JurisdictionId>,
        depth: usize,
        all: &'a [Jurisdiction],
        out: &mut Vec<(usize, &'a Jurisdiction)>,
    ) {
        let mut children: Vec<&Jurisdiction> = all.iter().filter(|j| j.parent.as_ref() == parent).collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        for child in children {
            out.push((depth, child));
            visit(Some(&child.id), depth + 1, all, out);
        }
    }
    let mut out = Vec::with_capacity(jurisdictions.len());
    visit(None, 0, jurisdictions, &mut out);
    out
}

/// The jurisdiction and its ancestors, nearest first: the jurisdictions whose elections its
/// voters vote in. Bounded so a cycle in hand-edited data cannot loop.
pub fn with_ancestors<'a>(jurisdictions: &'a [Jurisdiction], id: &JurisdictionId) -> Vec<&'a Jurisdiction> {
    let mut chain = Vec::new();
    let mut current = jurisdictions.iter().find(|j| &j.id == id);
    while let Some(jurisdiction) = current {
        if chain.len() > jurisdictions.len() {
            break;
        }
        chain.push(jurisdiction);
        current = jurisdiction.parent.as_ref().and_then(|parent| jurisdictions.iter().find(|j| &j.id == parent));
    }
    chain
}

/// Sums per-precinct counts up the tree: each precinct's count is added to its jurisdiction
/// and to every ancestor of it (precinct -> county -> state).
pub fn roll_up<'a>(
    jurisdictions: &[Jurisdiction],
    precincts: &[Precinct],
    counts: impl IntoIterator<Item = (&'a PrecinctId, u64)>,
) -> BTreeMap<JurisdictionId, u64> {
    let parents: BTreeMap<&JurisdictionId, Option<&JurisdictionId>> =
        jurisdictions.iter().map(|j| (&j.id, j.parent.as_ref())).collect();
    let homes: BTreeMap<&PrecinctId, &JurisdictionId> = precincts.iter().map(|p| (&p.id, &p.jurisdiction)).collect();
    let mut totals = BTreeMap::new();
    for (precinct, count) in counts {
        let mut current = homes.get(precinct).copied();
        // The depth bound guards against a cycle in hand-edited data.
        for _ in 0..=jurisdictions.len() {
            let Some(jurisdiction) = current else { break };
            *totals.entry(jurisdiction.clone()).or_insert(0) += count;
            current = parents.get(jurisdiction).copied().flatten();
        }
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;
    use JurisdictionKind::*;

    #[test]
    fn tree_rule() {
        let cases = [
            (State, None, true),
            (State, Some(State), false),
            (County, Some(State), true),
            (County, None, false),
            (County, Some(County), false),
            (Municipality, Some(County), true),
            (Municipality, Some(State), true),
            (Municipality, None, false),
            (Municipality, Some(Municipality), false),
        ];
        for (child, parent, allowed) in cases {
            assert_eq!(child.check_parent(parent).is_ok(), allowed, "{child:?} under {parent:?}");
        }
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(JurisdictionKind::parse("County").unwrap(), County);
        let error = JurisdictionKind::parse("province").unwrap_err().to_string();
        assert!(error.contains("state, county, municipality"), "{error}");
    }

    #[test]
    fn tree_order_puts_parents_first() {
        let make = |id: &str, name: &str, kind, parent: Option<&str>| Jurisdiction {
            id: JurisdictionId::parse(id).unwrap(),
            name: Name::parse(name).unwrap(),
            kind,
            parent: parent.map(|p| JurisdictionId::parse(p).unwrap()),
        };
        let all = vec![
            make("b", "Birch", County, Some("s")),
            make("t", "Town", Municipality, Some("a")),
            make("s", "State", State, None),
            make("a", "Alder", County, Some("s")),
        ];
        let order: Vec<(usize, &str)> = tree_order(&all).into_iter().map(|(d, j)| (d, j.id.as_str())).collect();
        assert_eq!(order, vec![(0, "s"), (1, "a"), (2, "t"), (1, "b")]);
        let chain: Vec<&str> =
            with_ancestors(&all, &JurisdictionId::parse("t").unwrap()).iter().map(|j| j.id.as_str()).collect();
        assert_eq!(chain, ["t", "a", "s"]);
        assert!(with_ancestors(&all, &JurisdictionId::parse("nowhere").unwrap()).is_empty());

        let precinct = |id: &str, home: &str| Precinct {
            id: PrecinctId::parse(id).unwrap(),
            jurisdiction: JurisdictionId::parse(home).unwrap(),
            name: Name::parse(id).unwrap(),
        };
        let precincts = vec![precinct("a1", "a"), precinct("t1", "t"), precinct("b1", "b")];
        let counts = [(&precincts[0].id, 10), (&precincts[1].id, 5), (&precincts[2].id, 7)];
        let totals = roll_up(&all, &precincts, counts);
        let get = |id: &str| totals.get(&JurisdictionId::parse(id).unwrap()).copied();
        assert_eq!((get("s"), get("a"), get("t"), get("b")), (Some(22), Some(15), Some(5), Some(7)));
    }
}
