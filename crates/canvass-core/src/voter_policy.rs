//! Which voter fields are public record and which are confidential, per jurisdiction. The
//! default follows North Carolina law (G.S. 163-82.10): the SSN, driver's licence number, full
//! date of birth, email address and signature image are confidential; for a participant in the
//! address confidentiality program the addresses (and phone) are confidential too. Confidential
//! fields are stored sealed with blind indexes and shown only to roles allowed to read them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// A voter field, as the policy classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoterField {
    RegistrationNumber,
    Name,
    ResidentialAddress,
    MailingAddress,
    Phone,
    Status,
    Party,
    Demographics,
    BirthYear,
    BirthDate,
    Ssn4,
    DriversLicense,
    Email,
    SignatureImage,
    Districts,
}

impl VoterField {
    pub const ALL: [Self; 15] = [
        Self::RegistrationNumber,
        Self::Name,
        Self::ResidentialAddress,
        Self::MailingAddress,
        Self::Phone,
        Self::Status,
        Self::Party,
        Self::Demographics,
        Self::BirthYear,
        Self::BirthDate,
        Self::Ssn4,
        Self::DriversLicense,
        Self::Email,
        Self::SignatureImage,
        Self::Districts,
    ];

    /// The fields an address-confidentiality participant's record hides on top of the policy's.
    const ADDRESS: [Self; 3] = [Self::ResidentialAddress, Self::MailingAddress, Self::Phone];

    /// The field an ncvoter column holds (see `canvass_formats::ncvoter`); unknown columns are
    /// treated as the most sensitive kind, never as public.
    pub fn of_ncvoter_column(column: &str) -> Self {
        match column {
            "county_id" | "county_desc" | "voter_reg_num" | "ncid" => Self::RegistrationNumber,
            "last_name" | "first_name" | "middle_name" | "name_suffix_lbl" => Self::Name,
            "status_cd"
            | "voter_status_desc"
            | "reason_cd"
            | "voter_status_reason_desc"
            | "registr_dt"
            | "confidential_ind" => Self::Status,
            "res_street_address" | "res_city_desc" | "state_cd" | "zip_code" => Self::ResidentialAddress,
            "mail_addr1" | "mail_addr2" | "mail_addr3" | "mail_addr4" | "mail_city" | "mail_state" | "mail_zipcode" => {
                Self::MailingAddress
            }
            "full_phone_number" => Self::Phone,
            "party_cd" => Self::Party,
            "race_code" | "ethnic_code" | "gender_code" | "birth_state" | "drivers_lic" => Self::Demographics,
            "birth_year" | "age_at_year_end" => Self::BirthYear,
            "birth_date" => Self::BirthDate,
            "ssn4" => Self::Ssn4,
            "drivers_lic_num" => Self::DriversLicense,
            "email" => Self::Email,
            column if column.ends_with("_abbrv") || column.ends_with("_desc") => Self::Districts,
            _ => Self::SignatureImage,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegistrationNumber => "registration_number",
            Self::Name => "name",
            Self::ResidentialAddress => "residential_address",
            Self::MailingAddress => "mailing_address",
            Self::Phone => "phone",
            Self::Status => "status",
            Self::Party => "party",
            Self::Demographics => "demographics",
            Self::BirthYear => "birth_year",
            Self::BirthDate => "birth_date",
            Self::Ssn4 => "ssn4",
            Self::DriversLicense => "drivers_license",
            Self::Email => "email",
            Self::SignatureImage => "signature_image",
            Self::Districts => "districts",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|field| field.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "voter field",
            value: value.to_owned(),
            expected: "registration_number, name, residential_address, mailing_address, phone, status, party, demographics, birth_year, birth_date, ssn4, drivers_license, email, signature_image, districts",
        })
    }
}

/// A jurisdiction's field policy: the set of confidential fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldPolicy {
    confidential: BTreeSet<VoterField>,
}

impl Default for FieldPolicy {
    fn default() -> Self {
        Self::north_carolina()
    }
}

impl FieldPolicy {
    /// G.S. 163-82.10: SSN, driver's licence number, full date of birth, email, signature.
    pub fn north_carolina() -> Self {
        let confidential = [
            VoterField::Ssn4,
            VoterField::DriversLicense,
            VoterField::BirthDate,
            VoterField::Email,
            VoterField::SignatureImage,
        ];
        Self { confidential: confidential.into_iter().collect() }
    }

    /// A stricter policy: the statutory confidential fields always stay confidential, so a
    /// jurisdiction can add fields but never make those public.
    pub fn with_confidential(extra: impl IntoIterator<Item = VoterField>) -> Self {
        let mut policy = Self::north_carolina();
        policy.confidential.extend(extra);
        policy
    }

    /// Whether the field is confidential for this voter; `address_confidential` is the voter's
    /// participation in the address confidentiality program.
    pub fn is_confidential(&self, field: VoterField, address_confidential: bool) -> bool {
        self.confidential.contains(&field) || (address_confidential && VoterField::ADDRESS.contains(&field))
    }

    pub fn confidential_fields(&self) -> impl Iterator<Item = VoterField> + '_ {
        self.confidential.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_north_carolina_default_follows_the_statute() {
        let policy = FieldPolicy::default();
        let confidential: Vec<VoterField> = policy.confidential_fields().collect();
        assert_eq!(
            confidential,
            [
                VoterField::BirthDate,
                VoterField::Ssn4,
                VoterField::DriversLicense,
                VoterField::Email,
                VoterField::SignatureImage
            ]
        );
        assert!(!policy.is_confidential(VoterField::ResidentialAddress, false));
        assert!(policy.is_confidential(VoterField::ResidentialAddress, true));
        assert!(policy.is_confidential(VoterField::Phone, true));
        assert!(!policy.is_confidential(VoterField::Name, true));
        assert!(!policy.is_confidential(VoterField::BirthYear, false));
    }

    #[test]
    fn stricter_policies_keep_the_statutory_fields() {
        let policy = FieldPolicy::with_confidential([VoterField::Phone]);
        assert!(policy.is_confidential(VoterField::Phone, false));
        assert!(policy.is_confidential(VoterField::Ssn4, false));
    }

    #[test]
    fn ncvoter_columns_map_to_fields_and_unknown_ones_are_never_public() {
        assert_eq!(VoterField::of_ncvoter_column("ssn4"), VoterField::Ssn4);
        assert_eq!(VoterField::of_ncvoter_column("mail_zipcode"), VoterField::MailingAddress);
        assert_eq!(VoterField::of_ncvoter_column("vtd_desc"), VoterField::Districts);
        assert_eq!(VoterField::of_ncvoter_column("signature_blob"), VoterField::SignatureImage);
        assert!(FieldPolicy::default().is_confidential(VoterField::of_ncvoter_column("anything_else"), false));
        for field in VoterField::ALL {
            assert_eq!(VoterField::parse(field.as_str()).ok(), Some(field));
        }
    }
}
