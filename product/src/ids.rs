//! Identifiers: ULIDs (events, missions, correlation) and UUIDv4 (projects), from the OS RNG.

use chrono::{DateTime, Utc};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS RNG failing is not recoverable; fall back to time-derived bytes rather than panic.
    if getrandom::fill(&mut bytes).is_err() {
        time_derived(&mut bytes);
    }
    bytes
}

/// Fill `bytes` from the clock and the process id: the fallback when the OS RNG fails.
fn time_derived(bytes: &mut [u8]) {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or(0) as u128;
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (nanos >> ((i % 16) * 8)) as u8 ^ (std::process::id() as u8);
    }
}

/// A new ULID at `now`: 48-bit millisecond time + 80 random bits, Crockford base32 (26 chars).
///
/// ```
/// let id = spec_kitty::internals::ids::ulid(chrono::Utc::now());
/// assert_eq!(id.len(), 26);
/// assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
/// ```
pub fn ulid(now: DateTime<Utc>) -> String {
    ulid_from(now.timestamp_millis(), random::<10>())
}

/// The ULID of millisecond time `ms` (clamped to 0..2^48) and 80 bits of `entropy`.
fn ulid_from(ms: i64, entropy: [u8; 10]) -> String {
    let ms = ms.clamp(0, (1 << 48) - 1).to_be_bytes();
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms[2..]);
    bytes[6..].copy_from_slice(&entropy);
    let value = u128::from_be_bytes(bytes);
    (0..26)
        .map(|i| CROCKFORD[((value >> (5 * (25 - i))) & 31) as usize] as char)
        .collect()
}

/// A new random UUID (version 4), hyphenated lower case.
///
/// ```
/// let id = spec_kitty::internals::ids::uuid4();
/// assert_eq!(id.len(), 36);
/// assert_eq!(&id[14..15], "4");
/// ```
pub fn uuid4() -> String {
    let mut b = random::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    hyphenate(&b)
}

/// A name-based UUID (version 5, SHA-1) of `name` in the namespace `namespace` (hyphenated).
///
/// ```
/// // uuid.uuid5(uuid.NAMESPACE_URL, "spec-kitty:identity:build_id")
/// let url = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
/// assert_eq!(
///     spec_kitty::internals::ids::uuid5(url, "spec-kitty:identity:build_id").unwrap(),
///     "18c0fef1-8e60-5d6b-89d9-e2f1ccb9cc03"
/// );
/// ```
pub fn uuid5(namespace: &str, name: &str) -> Option<String> {
    use sha1::Digest;
    let ns = hex::decode(namespace.replace('-', "")).ok()?;
    if ns.len() != 16 {
        return None;
    }
    let mut hasher = sha1::Sha1::new();
    hasher.update(&ns);
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    Some(hyphenate(&b))
}

fn hyphenate(b: &[u8; 16]) -> String {
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The RFC 4122 URL namespace.
const NAMESPACE_URL: &str = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

/// The reference's deterministic project `build_id`: `uuid5(uuid5(URL,
/// "spec-kitty:identity:build_id"), "<project_uuid>:<node_id>")`.
///
/// ```
/// assert_eq!(
///     spec_kitty::internals::ids::build_id("e0eda9e8-b04e-473b-8ecd-dba0de886465", "b805cd5cee74"),
///     "64c7568d-2d4e-541d-9d17-1f470fb213b0"
/// );
/// ```
pub fn build_id(project_uuid: &str, node_id: &str) -> String {
    let ns = uuid5(NAMESPACE_URL, "spec-kitty:identity:build_id").unwrap_or_default();
    uuid5(&ns, &format!("{project_uuid}:{node_id}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::at;

    #[test]
    fn a_ulid_encodes_its_millisecond_time_then_its_entropy_in_crockford_base32() {
        // 2026-11-27T12:00:00Z is 1795780800000 ms: "01M8EE0VG0" in 10 base-32 digits.
        assert_eq!(
            ulid_from(1_795_780_800_000, [0; 10]),
            "01M8EE0VG00000000000000000"
        );
        assert_eq!(ulid_from(0, [0xff; 10]), "0000000000ZZZZZZZZZZZZZZZZ");
        assert_eq!(
            ulid_from(0, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            "00000000000000000000000001"
        );
        assert_eq!(
            ulid_from(0, [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            "0000000000G000000000000000"
        );
        // Out-of-range times are clamped, not wrapped.
        assert_eq!(ulid_from(-1, [0; 10]), "0".repeat(26));
        assert_eq!(&ulid_from(i64::MAX, [0; 10])[..10], "7ZZZZZZZZZ");
        assert_eq!(&ulid_from((1 << 48) - 1, [0; 10])[..10], "7ZZZZZZZZZ");
    }

    #[test]
    fn ulids_carry_the_clock_and_fresh_entropy() {
        let t = at("2026-11-27T12:00:00Z");
        let (a, b) = (ulid(t), ulid(t));
        assert_eq!(&a[..10], "01M8EE0VG0");
        assert_eq!(&a[..10], &b[..10]);
        assert_ne!(
            a[10..],
            b[10..],
            "two ULIDs of the same millisecond differ in their entropy"
        );
        assert!(
            ulid(at("2026-11-27T12:00:00.001Z")) > b,
            "later ULIDs sort after"
        );
        assert!(a.bytes().all(|c| CROCKFORD.contains(&c)));
    }

    #[test]
    fn uuid4_sets_the_version_and_variant_and_is_random() {
        let ids: Vec<String> = (0..64).map(|_| uuid4()).collect();
        for id in &ids {
            let dashes: Vec<usize> = id.match_indices('-').map(|(i, _)| i).collect();
            assert_eq!(dashes, [8, 13, 18, 23], "{id}");
            assert_eq!(&id[14..15], "4", "{id}");
            assert!("89ab".contains(&id[19..20]), "{id}");
            assert!(
                id.chars()
                    .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
        }
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        // Over 64 draws every non-fixed nibble position takes more than one value.
        for pos in (0..36).filter(|p| ![8, 13, 14, 18, 23].contains(p)) {
            let seen: std::collections::HashSet<&str> =
                ids.iter().map(|id| &id[pos..=pos]).collect();
            assert!(seen.len() > 1, "position {pos} never varies");
        }
    }

    #[test]
    fn uuid5_matches_python_and_rejects_a_malformed_namespace() {
        // uuid.uuid5(uuid.NAMESPACE_DNS, "kitty") and the reference's build_id.
        let dns = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
        assert_eq!(
            uuid5(dns, "kitty").as_deref(),
            Some("7f6b8ae7-9821-532f-ab36-2bee15d91d49")
        );
        assert_eq!(
            uuid5(NAMESPACE_URL, "spec-kitty:identity:build_id").as_deref(),
            Some("18c0fef1-8e60-5d6b-89d9-e2f1ccb9cc03")
        );
        assert_eq!(build_id("p", "n"), "e95b7f36-aedf-50ea-8514-69064c498757");
        assert_eq!(
            build_id("e0eda9e8-b04e-473b-8ecd-dba0de886465", "b805cd5cee74"),
            "64c7568d-2d4e-541d-9d17-1f470fb213b0"
        );
        assert_eq!(uuid5("not-hex", "kitty"), None);
        assert_eq!(uuid5("6ba7b810", "kitty"), None, "too short");
        assert_eq!(uuid5(&format!("{dns}00"), "kitty"), None, "too long");
    }
}
