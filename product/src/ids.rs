//! Identifiers: ULIDs (events, missions, correlation) and UUIDv4 (projects), from the OS RNG.

use chrono::{DateTime, Utc};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS RNG failing is not recoverable; fall back to time-derived bytes rather than panic.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or(0) as u128;
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8 ^ (std::process::id() as u8);
        }
    }
    bytes
}

/// A new ULID at `now`: 48-bit millisecond time + 80 random bits, Crockford base32 (26 chars).
///
/// ```
/// let id = spec_kitty::internals::ids::ulid(chrono::Utc::now());
/// assert_eq!(id.len(), 26);
/// assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
/// ```
pub fn ulid(now: DateTime<Utc>) -> String {
    let ms = u128::from(now.timestamp_millis().max(0) as u64) & ((1 << 48) - 1);
    let rand = random::<10>();
    let mut value = ms << 80;
    for (i, b) in rand.iter().enumerate() {
        value |= u128::from(*b) << (8 * (9 - i));
    }
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
