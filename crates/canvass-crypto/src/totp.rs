//! Time-based one-time passwords (RFC 6238) for staff sign-in: HMAC-SHA1, 6 digits, 30-second
//! steps, the parameters every authenticator app supports. The secret is sealed at rest under a
//! key derived from the node's key and bound to its account.

use std::fmt;

use data_encoding::BASE32_NOPAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use ring::{
    hmac,
    rand::{SecureRandom, SystemRandom},
};
use zeroize::Zeroizing;

use crate::{CryptoError, FieldCipher, FieldContext, SecretKey};

/// Seconds per time step (RFC 6238's X).
pub const TOTP_STEP_SECONDS: u64 = 30;
/// Digits in a code.
pub const TOTP_DIGITS: usize = 6;
/// Length of a generated secret: RFC 4226 section 4 recommends 160 bits for HMAC-SHA1.
const GENERATED_LEN: usize = 20;
/// RFC 4226 requires at least 128 bits; more than one SHA-1 block (64 bytes) is pointless.
const MINIMUM_LEN: usize = 16;
const MAXIMUM_LEN: usize = 64;
const MODULUS: u32 = 1_000_000;
/// The key version of sealed secrets; the derived key itself changes only with the node key.
const SEAL_VERSION: u32 = 1;

/// Characters left as they are in an otpauth label or parameter: RFC 3986 unreserved ones.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A staff member's TOTP secret. Zeroized on drop and never printed.
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    /// A fresh 160-bit secret from the system's random number generator.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new(vec![0u8; GENERATED_LEN]);
        SystemRandom::new().fill(bytes.as_mut_slice()).map_err(|_| CryptoError::Random)?;
        Ok(Self(bytes))
    }

    /// A secret from its raw bytes (16 to 64 of them).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if !(MINIMUM_LEN..=MAXIMUM_LEN).contains(&bytes.len()) {
            return Err(CryptoError::InvalidTotpSecret(bytes.len()));
        }
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    /// RFC 4648 base32 without padding, for typing into an authenticator app by hand. Holds the
    /// secret: show it only to the person enrolling.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE32_NOPAD.encode(&self.0))
    }

    /// The `otpauth://` URI an authenticator app reads from a QR code (Google Authenticator's
    /// key URI format). Holds the secret: show it only to the person enrolling.
    pub fn provisioning_uri(&self, issuer: &str, account: &str) -> Zeroizing<String> {
        let issuer = utf8_percent_encode(issuer, URI_COMPONENT).to_string();
        let account = utf8_percent_encode(account, URI_COMPONENT).to_string();
        let secret = self.to_base32();
        let parameters = "&algorithm=SHA1&digits=6&period=30";
        // Sized up front so no growth leaves a copy of the secret in freed memory.
        let capacity = 64 + 2 * issuer.len() + account.len() + secret.len() + parameters.len();
        let mut uri = Zeroizing::new(String::with_capacity(capacity));
        for part in ["otpauth://totp/", &issuer, ":", &account, "?secret=", &secret, "&issuer=", &issuer, parameters] {
            uri.push_str(part);
        }
        uri
    }

    /// The HOTP value (RFC 4226 section 5.3) for time step `step`.
    fn code_for_step(&self, step: u64) -> u32 {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        let tag = hmac::sign(&key, &step.to_be_bytes());
        let hash = tag.as_ref();
        // SHA-1 output is 20 bytes and the offset is at most 15, so offset + 3 <= 18 is in range.
        let offset = usize::from(hash[hash.len() - 1] & 0x0f);
        let truncated = u32::from_be_bytes([hash[offset] & 0x7f, hash[offset + 1], hash[offset + 2], hash[offset + 3]]);
        truncated % MODULUS
    }

    /// The code an authenticator app shows at `unix_seconds`: six digits, zero-padded.
    pub fn code_at(&self, unix_seconds: u64) -> String {
        format!("{:06}", self.code_for_step(unix_seconds / TOTP_STEP_SECONDS))
    }

    /// Checks `code` (six ASCII digits, surrounding spaces ignored) against the steps just
    /// before, at and just after `unix_seconds`, to allow for clock drift and typing time.
    /// Returns the matched time step, which the caller records so one code cannot be used
    /// twice; `None` for a wrong or malformed code.
    pub fn verify(&self, code: &str, unix_seconds: u64) -> Option<i64> {
        let given = parse_code(code)?;
        let current = unix_seconds / TOTP_STEP_SECONDS;
        // Every candidate is computed and compared without an early exit, so timing tells an
        // attacker nothing about which step (if any) matched or how close the code came.
        let candidates = [Some(current), current.checked_sub(1), current.checked_add(1)];
        let mut matched = None;
        for step in candidates.into_iter().flatten() {
            let equal = constant_time_equal(self.code_for_step(step), given);
            // The current step is listed first and wins when codes of adjacent steps collide.
            if equal && matched.is_none() {
                matched = Some(step);
            }
        }
        matched.and_then(|step| i64::try_from(step).ok())
    }

    /// Seals the secret for storage in `username`'s account row, under a key from
    /// [`NodeSigningKey::derive_secret`](crate::NodeSigningKey::derive_secret). Moved to another
    /// account, it fails to open.
    pub fn seal(&self, key: &SecretKey, username: &str) -> Result<Vec<u8>, CryptoError> {
        FieldCipher::new(key, SEAL_VERSION)?.seal(&seal_context(username), &self.0)
    }

    /// Opens a secret sealed by [`TotpSecret::seal`] for the same `username` and key.
    pub fn open(sealed: &[u8], key: &SecretKey, username: &str) -> Result<TotpSecret, CryptoError> {
        let bytes = FieldCipher::new(key, SEAL_VERSION)?.open(&seal_context(username), sealed)?;
        Self::from_bytes(&bytes).map_err(|_| CryptoError::Tampered)
    }
}

/// Node-wide secrets belong to no jurisdiction; "node" cannot clash with a jurisdiction's
/// contexts because those are sealed under that jurisdiction's own keys.
fn seal_context(username: &str) -> FieldContext<'_> {
    FieldContext {
        jurisdiction: "node",
        table: "staff_accounts",
        record: username,
        field: "totp_secret",
        key_version: SEAL_VERSION,
    }
}

/// Six ASCII digits (after trimming surrounding whitespace) as a number; anything else is None.
fn parse_code(code: &str) -> Option<u32> {
    let code = code.trim();
    if code.len() != TOTP_DIGITS || !code.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some(code.bytes().fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0')))
}

/// Equality without a data-dependent branch. Written here rather than taken from
/// `ring::constant_time`, which ring has deprecated with no promise about side channels.
fn constant_time_equal(left: u32, right: u32) -> bool {
    let difference = std::hint::black_box(left ^ right);
    // Folds any set bit into bit 0 without branching: 0 only when the values are equal.
    let folded = (difference | difference.wrapping_neg()) >> 31;
    std::hint::black_box(folded) == 0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// RFC 6238 Appendix B's SHA-1 secret.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    fn check(unix_seconds: u64, eight_digit_code: &str) {
        let secret = rfc_secret();
        let expected = &eight_digit_code[2..];
        assert_eq!(secret.code_at(unix_seconds), expected, "at {unix_seconds}");
        let step = i64::try_from(unix_seconds / 30).unwrap();
        assert_eq!(secret.verify(expected, unix_seconds), Some(step), "at {unix_seconds}");
    }

    #[test]
    fn rfc_6238_appendix_b_sha1_vectors() {
        check(59, "94287082");
        check(1_111_111_109, "07081804");
        check(1_111_111_111, "14050471");
        check(1_234_567_890, "89005924");
        check(2_000_000_000, "69279037");
        check(20_000_000_000, "65353130");
    }

    #[test]
    fn codes_of_the_neighbouring_steps_are_accepted_and_no_further() {
        let secret = TotpSecret::generate().unwrap();
        let now = 1_700_000_015;
        let step = i64::try_from(now / 30).unwrap();
        assert_eq!(secret.verify(&secret.code_at(now), now), Some(step));
        assert_eq!(secret.verify(&secret.code_at(now - 30), now), Some(step - 1));
        assert_eq!(secret.verify(&secret.code_at(now + 30), now), Some(step + 1));
        for far in [now - 60, now + 60, now - 3600] {
            let code = secret.code_at(far);
            // A far code may collide with a near one by chance (about 3 in a million).
            let collides = [now - 30, now, now + 30].iter().any(|&near| secret.code_at(near) == code);
            if !collides {
                assert_eq!(secret.verify(&code, now), None, "code of {far} accepted at {now}");
            }
        }
    }

    #[test]
    fn the_first_step_has_no_earlier_neighbour_and_the_last_does_not_overflow() {
        let secret = rfc_secret();
        assert_eq!(secret.verify("287082", 0), Some(1), "59's code is the next step at 0");
        assert_eq!(secret.verify(&secret.code_at(0), 0), Some(0));
        let last = u64::MAX;
        let step = i64::try_from(last / 30).unwrap();
        assert_eq!(secret.verify(&secret.code_at(last), last), Some(step));
        assert_eq!(secret.verify(&secret.code_at(last - 30), last), Some(step - 1));
    }

    #[test]
    fn malformed_codes_are_refused() {
        let secret = rfc_secret();
        let now = 59;
        assert_eq!(secret.verify(" 287082 ", now), Some(1), "surrounding spaces are ignored");
        for code in [
            "",
            " ",
            "12345",
            "1234567",
            "12a456",
            "28708２",
            "２８７０８２",
            "٢٨٧٠٨٢",
            "287 082",
            "+28708",
            "-28708",
            "28708\u{0}",
            "94287082",
            "0x1234",
        ] {
            assert_eq!(secret.verify(code, now), None, "{code:?}");
        }
    }

    #[test]
    fn secrets_are_16_to_64_bytes() {
        assert!(TotpSecret::from_bytes(&[0; 15]).is_err());
        assert!(TotpSecret::from_bytes(&[0; 16]).is_ok());
        assert!(TotpSecret::from_bytes(&[0; 64]).is_ok());
        assert!(TotpSecret::from_bytes(&[0; 65]).is_err());
        assert!(TotpSecret::from_bytes(&[]).is_err());
        assert_eq!(TotpSecret::generate().unwrap().0.len(), 20);
    }

    #[test]
    fn base32_and_the_provisioning_uri() {
        let secret = rfc_secret();
        assert_eq!(secret.to_base32().as_str(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            secret.provisioning_uri("Canvass Wake", "alice@wake.example").as_str(),
            "otpauth://totp/Canvass%20Wake:alice%40wake.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Canvass%20Wake&algorithm=SHA1&digits=6&period=30"
        );
        let tricky = secret.provisioning_uri("a:b&c=d?", "x/y#z");
        assert!(tricky.starts_with("otpauth://totp/a%3Ab%26c%3Dd%3F:x%2Fy%23z?secret="), "{}", tricky.as_str());
        assert!(tricky.contains("&issuer=a%3Ab%26c%3Dd%3F&"));
        let sixteen = TotpSecret::from_bytes(&[0xff; 16]).unwrap();
        assert!(!sixteen.to_base32().contains('='), "no padding");
    }

    #[test]
    fn debug_does_not_show_the_secret() {
        let debug = format!("{:?}", rfc_secret());
        assert_eq!(debug, "TotpSecret(..)");
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_account_and_key() {
        let key = SecretKey::generate().unwrap();
        let secret = TotpSecret::generate().unwrap();
        let sealed = secret.seal(&key, "alice").unwrap();
        let opened = TotpSecret::open(&sealed, &key, "alice").unwrap();
        assert_eq!(opened.0.as_slice(), secret.0.as_slice());
        assert!(matches!(TotpSecret::open(&sealed, &key, "bob"), Err(CryptoError::Tampered)), "moved to bob's row");
        let other_key = SecretKey::generate().unwrap();
        assert!(TotpSecret::open(&sealed, &other_key, "alice").is_err());
        let mut damaged = sealed.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(TotpSecret::open(&damaged, &key, "alice").is_err());
        assert!(TotpSecret::open(&[], &key, "alice").is_err());
    }

    #[test]
    fn constant_time_equal_is_equality() {
        for (left, right) in
            [(0, 0), (0, 1), (1, 0), (u32::MAX, u32::MAX), (u32::MAX, 0), (1 << 31, 0), (999_999, 999_999)]
        {
            assert_eq!(constant_time_equal(left, right), left == right, "{left} {right}");
        }
    }

    proptest! {
        #[test]
        fn a_code_verifies_at_its_own_time(bytes in proptest::collection::vec(any::<u8>(), 16..=64), unix_seconds in any::<u64>()) {
            let secret = TotpSecret::from_bytes(&bytes).unwrap();
            let code = secret.code_at(unix_seconds);
            prop_assert_eq!(code.len(), 6);
            prop_assert_eq!(secret.verify(&code, unix_seconds), Some(i64::try_from(unix_seconds / 30).unwrap()));
        }

        #[test]
        fn verify_never_panics(code in "\\PC{0,12}", unix_seconds in any::<u64>()) {
            let _ = rfc_secret().verify(&code, unix_seconds);
        }

        #[test]
        fn open_never_panics(sealed in proptest::collection::vec(any::<u8>(), 0..120), username in "\\PC{0,12}") {
            let key = SecretKey::generate().unwrap();
            prop_assert!(TotpSecret::open(&sealed, &key, &username).is_err());
        }
    }
}
