//! How a file is encrypted at rest: AES-256-GCM in the STREAM construction (`aead::stream`,
//! big-endian 32-bit counter), one segment of [`SEGMENT`] plaintext bytes at a time. Each
//! segment opens on its own (its position and whether it is the last are part of its nonce),
//! so a byte range is served by decrypting only the segments it touches, and a truncated,
//! reordered or altered object never opens. The associated data binds an object to its row.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::stream::{NewStream, StreamBE32, StreamPrimitive};
use rand::RngCore;

/// Plaintext bytes per segment.
pub const SEGMENT: usize = 64 * 1024;
/// Authentication tag bytes added to each segment.
pub const TAG: usize = 16;
/// Stored ciphertext bytes per full segment.
pub const SEALED_SEGMENT: usize = SEGMENT + TAG;
/// Bytes of the random nonce prefix stored with each object.
pub const NONCE_PREFIX: usize = 7;

/// A segment did not open: tampered, truncated or under another key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("segment {0} does not authenticate")]
pub struct Tampered(pub u32);

/// The cipher of one object.
pub struct SegmentCipher {
    stream: StreamBE32<Aes256Gcm>,
    aad: Vec<u8>,
}

/// A fresh random nonce prefix for a new object.
pub fn new_nonce_prefix() -> [u8; NONCE_PREFIX] {
    let mut prefix = [0u8; NONCE_PREFIX];
    rand::rngs::OsRng.fill_bytes(&mut prefix);
    prefix
}

impl SegmentCipher {
    /// The cipher of the object sealed with `key`, `prefix`, bound to `aad`.
    pub fn new(key: &Aes256Gcm, prefix: &[u8; NONCE_PREFIX], aad: &[u8]) -> Self {
        Self {
            stream: StreamBE32::from_aead(key.clone(), &(*prefix).into()),
            aad: aad.to_vec(),
        }
    }

    /// Encrypts segment `position` in place (appending its tag).
    pub fn seal(&self, position: u32, last: bool, buf: &mut Vec<u8>) {
        // Encryption into a Vec with a valid key cannot fail (the counter is bounded by the
        // size limit, far below 2^32 segments).
        let _ = self.stream.encrypt_in_place(position, last, &self.aad, buf);
    }

    /// Decrypts segment `position` in place (removing its tag).
    pub fn open(&self, position: u32, last: bool, buf: &mut Vec<u8>) -> Result<(), Tampered> {
        self.stream
            .decrypt_in_place(position, last, &self.aad, buf)
            .map_err(|_| Tampered(position))
    }
}

/// How many segments an object of `size` plaintext bytes has (an empty file has one).
pub fn segments(size: u64) -> u64 {
    size.div_ceil(SEGMENT as u64).max(1)
}

/// The stored size of an object of `size` plaintext bytes.
pub fn sealed_size(size: u64) -> u64 {
    size + segments(size) * TAG as u64
}

/// The plaintext range `start..end` (end exclusive, within `size`) as segments: the first
/// segment, how many, and the stored byte range that holds them.
pub fn sealed_range(start: u64, end: u64, size: u64) -> (u64, u64, std::ops::Range<u64>) {
    let seg = SEGMENT as u64;
    let first = start / seg;
    let last = if end == 0 { 0 } else { (end - 1) / seg };
    let from = first * SEALED_SEGMENT as u64;
    let to = ((last + 1) * SEALED_SEGMENT as u64).min(sealed_size(size));
    (first, last - first + 1, from..to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::KeyInit;

    fn seal_all(c: &SegmentCipher, data: &[u8]) -> Vec<u8> {
        let chunks: Vec<&[u8]> = if data.is_empty() {
            vec![&[]]
        } else {
            data.chunks(SEGMENT).collect()
        };
        let n = chunks.len();
        let mut out = Vec::new();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut buf = chunk.to_vec();
            c.seal(i as u32, i + 1 == n, &mut buf);
            out.extend_from_slice(&buf);
        }
        out
    }

    #[test]
    fn any_segment_opens_alone_and_a_moved_or_cut_segment_does_not() {
        let key = Aes256Gcm::new(&[7u8; 32].into());
        let prefix = new_nonce_prefix();
        let c = SegmentCipher::new(&key, &prefix, b"doc-1");
        let data: Vec<u8> = (0..(SEGMENT * 2 + 10)).map(|i| (i % 251) as u8).collect();
        let sealed = seal_all(&c, &data);
        assert_eq!(sealed.len() as u64, sealed_size(data.len() as u64));
        let (first, count, range) = sealed_range(
            SEGMENT as u64 + 5,
            SEGMENT as u64 + 9,
            2 * SEGMENT as u64 + 10,
        );
        assert_eq!((first, count), (1, 1));
        let mut seg = sealed[range.start as usize..range.end as usize].to_vec();
        c.open(1, false, &mut seg).unwrap();
        assert_eq!(&seg[5..9], &data[SEGMENT + 5..SEGMENT + 9]);
        // The last segment claimed as not last, or opened for another row: refused.
        let mut tail = sealed[2 * SEALED_SEGMENT..].to_vec();
        assert_eq!(c.open(2, false, &mut tail.clone()), Err(Tampered(2)));
        let other = SegmentCipher::new(&key, &prefix, b"doc-2");
        assert_eq!(other.open(2, true, &mut tail.clone()), Err(Tampered(2)));
        c.open(2, true, &mut tail).unwrap();
        assert_eq!(tail, &data[2 * SEGMENT..]);
    }

    #[test]
    fn an_empty_file_is_one_sealed_segment() {
        assert_eq!(segments(0), 1);
        assert_eq!(sealed_size(0), TAG as u64);
        assert_eq!(sealed_range(0, 0, 0), (0, 1, 0..TAG as u64));
    }
}
