//! Interning: map slices (words, id sequences) to dense `u32` ids, hashing each key once and comparing
//! it once. String-keyed hash maps were the tokenizer's bottleneck; this is what replaced them.

use std::hash::{Hash, Hasher};

use hashbrown::HashTable;
use rustc_hash::FxHasher;

/// The slices behind an interner's ids, end to end in one buffer: slice `id` is `spans[id]`.
#[derive(Clone, Debug)]
struct Slices<T> {
    arena: Vec<T>,
    spans: Vec<(u32, u32)>,
}

impl<T> Default for Slices<T> {
    fn default() -> Self {
        Slices { arena: Vec::new(), spans: Vec::new() }
    }
}

impl<T: Copy> Slices<T> {
    /// Appends a slice; its id is the number of slices before it.
    fn push(&mut self, slice: &[T]) -> u32 {
        // u32::MAX stays free, as a marker for callers.
        let id = u32::try_from(self.spans.len()).ok().filter(|&id| id < u32::MAX).expect("fewer than 2^32 - 1 ids");
        let start = u32::try_from(self.arena.len()).expect("under 2^32 elements of distinct keys");
        self.arena.extend_from_slice(slice);
        self.spans.push((start, u32::try_from(self.arena.len()).expect("under 2^32 elements of distinct keys")));
        id
    }

    fn get(&self, id: u32) -> &[T] {
        let (start, end) = self.spans[id as usize];
        &self.arena[start as usize..end as usize]
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    fn clear(&mut self) {
        self.arena.clear();
        self.spans.clear();
    }
}

impl Slices<u8> {
    /// Slice `id` as text.
    fn str(&self, id: u32) -> &str {
        let bytes = self.get(id);
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: the string interners push only whole `&str`s (their interning methods take `&str`),
        // each span covers exactly one of them, and the arena is never edited in place, so every span
        // is valid UTF-8. Checking it again on every lookup was a tenth of the time of counting with
        // bigrams (perf).
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }
}

/// Dense ids for distinct slices of `T`, in order of first appearance.
#[derive(Clone, Debug)]
pub struct Interner<T> {
    table: HashTable<u32>,
    slices: Slices<T>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner { table: HashTable::new(), slices: Slices::default() }
    }
}

/// FxHash of a slice: fast, deterministic, and fine here because keys are not attacker-chosen.
pub fn hash_slice<T: Hash>(key: &[T]) -> u64 {
    let mut hasher = FxHasher::default();
    key.hash(&mut hasher);
    hasher.finish()
}

impl<T: Copy + Eq + Hash> Interner<T> {
    /// The id of `key`, if interned.
    pub fn get(&self, key: &[T]) -> Option<u32> {
        self.table.find(hash_slice(key), |&id| self.resolve(id) == key).copied()
    }

    /// The id of `key`, interning it if new; the flag says whether it was new.
    pub fn intern(&mut self, key: &[T]) -> (u32, bool) {
        let hash = hash_slice(key);
        if let Some(&id) = self.table.find(hash, |&id| self.slices.get(id) == key) {
            return (id, false);
        }
        let id = self.slices.push(key);
        let slices = &self.slices;
        self.table.insert_unique(hash, id, |&other| hash_slice(slices.get(other)));
        (id, true)
    }

    /// The slice behind an id.
    pub fn resolve(&self, id: u32) -> &[T] {
        self.slices.get(id)
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.slices.len()
    }

    /// True when nothing is interned.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A fast, well-mixed hash of a 128-bit key (a folded multiply, as foldhash and wyhash use).
#[inline]
fn mix(key: u128) -> u64 {
    const K1: u64 = 0x9E37_79B9_7F4A_7C15;
    const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;
    let (lo, hi) = (key as u64 ^ K1, (key >> 64) as u64 ^ K2);
    let full = (lo as u128).wrapping_mul(hi as u128);
    (full as u64) ^ ((full >> 64) as u64)
}

/// Packs a string of at most 15 bytes, with its length in the top byte, into a key, without a trip
/// through memory (overlapping unaligned loads).
#[inline]
fn pack_str(s: &[u8]) -> Option<u128> {
    let n = s.len();
    let word = |at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let half = |at: usize| u64::from(u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes")));
    let (lo, hi) = match n {
        0 => (0, 0),
        // First, middle and last byte: the three bytes, in order, for any length from 1 to 3.
        1..=3 => (u64::from(s[0]) | (u64::from(s[n / 2]) << 8) | (u64::from(s[n - 1]) << 16), 0),
        4..=7 => (half(0) | (half(n - 4) << (8 * (n - 4))), 0),
        8 => (word(0), 0),
        9..=15 => (word(0), word(n - 8) >> (8 * (16 - n))),
        _ => return None,
    };
    Some(u128::from(lo) | (u128::from(hi | ((n as u64) << 56)) << 64))
}

/// Dense ids for 128-bit keys (n-grams packed from their word ids), in order of first appearance.
#[derive(Clone, Debug, Default)]
pub struct KeyInterner {
    table: HashTable<u32>,
    keys: Vec<u128>,
}

impl KeyInterner {
    /// The id of `key`, interning it if new; the flag says whether it was new.
    #[inline]
    pub fn intern(&mut self, key: u128) -> (u32, bool) {
        let hash = mix(key);
        if let Some(&id) = self.table.find(hash, |&id| self.keys[id as usize] == key) {
            return (id, false);
        }
        let id = u32::try_from(self.keys.len()).expect("fewer than 2^32 distinct keys");
        self.keys.push(key);
        let keys = &self.keys;
        self.table.insert_unique(hash, id, |&other| mix(keys[other as usize]));
        (id, true)
    }

    /// Forgets every key, keeping the allocations.
    pub fn clear(&mut self) {
        self.table.clear();
        self.keys.clear();
    }

    /// The key behind an id.
    pub fn resolve(&self, id: u32) -> u128 {
        self.keys[id as usize]
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Key meaning "this id is a long string": its length byte (255) is never a packed length.
const LONG: u128 = u128::MAX;

/// A [`BatchInterner`] slot: the hash's top 32 bits over `id + 1` (so that `0` stays empty).
fn slot_of(hash: u64, id: u32) -> u64 {
    hash >> 32 << 32 | (u64::from(id) + 1)
}

/// The id of a long string (over 15 bytes) in `long`, a table of ids hashed by their text.
fn find_long(long: &HashTable<u32>, texts: &Slices<u8>, bytes: &[u8], hash: u64) -> Option<u32> {
    long.find(hash, |&id| texts.get(id) == bytes).copied()
}

/// Adds the long string `id`, already in `texts`, to `long`.
fn insert_long(long: &mut HashTable<u32>, texts: &Slices<u8>, id: u32, hash: u64) {
    long.insert_unique(hash, id, |&other| hash_slice(texts.get(other)));
}

/// Interned strings. Strings of up to 15 bytes (most words) are found by their packed bytes: one
/// probe in a table of 4-byte slots and one integer compare. Ids are in order of first appearance, so
/// frequent words get small ids and their keys sit together in cache.
#[derive(Clone, Debug, Default)]
pub struct StrInterner {
    short: HashTable<u32>,
    long: HashTable<u32>,
    keys: Vec<u128>,
    texts: Slices<u8>,
}

impl StrInterner {
    #[inline(always)]
    fn find(&self, bytes: &[u8], packed: Option<u128>) -> Option<u32> {
        match packed {
            Some(key) => self.short.find(mix(key), |&id| self.keys[id as usize] == key).copied(),
            None => find_long(&self.long, &self.texts, bytes, hash_slice(bytes)),
        }
    }

    /// The id of `s`, if interned.
    #[inline]
    pub fn get(&self, s: &str) -> Option<u32> {
        self.find(s.as_bytes(), pack_str(s.as_bytes()))
    }

    /// The id of `s`, interning it if new; the flag says whether it was new. Always inlined: it runs
    /// once per token, and a call cost a fifth of its instructions (callgrind).
    #[inline(always)]
    pub fn intern(&mut self, s: &str) -> (u32, bool) {
        let bytes = s.as_bytes();
        let packed = pack_str(bytes);
        if let Some(id) = self.find(bytes, packed) {
            return (id, false);
        }
        (self.insert(bytes, packed), true)
    }

    /// Adds a string known to be new. Kept out of line so that the lookup, by far the common case, is
    /// small enough to inline into the tokenizer's loop.
    #[inline(never)]
    fn insert(&mut self, bytes: &[u8], packed: Option<u128>) -> u32 {
        let id = self.texts.push(bytes);
        self.keys.push(packed.unwrap_or(LONG));
        match packed {
            Some(key) => {
                let keys = &self.keys;
                self.short.insert_unique(mix(key), id, |&other| mix(keys[other as usize]));
            }
            None => insert_long(&mut self.long, &self.texts, id, hash_slice(bytes)),
        }
        id
    }

    /// Forgets every string, keeping the allocations.
    pub fn clear(&mut self) {
        self.short.clear();
        self.long.clear();
        self.keys.clear();
        self.texts.clear();
    }

    /// The UTF-8 bytes behind an id (cheaper than [`StrInterner::resolve`] when comparing).
    pub fn resolve_bytes(&self, id: u32) -> &[u8] {
        self.texts.get(id)
    }

    /// The string behind an id.
    pub fn resolve(&self, id: u32) -> &str {
        self.texts.str(id)
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// True when nothing is interned.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How many strings ahead [`BatchInterner::intern_all`] prefetches a table slot, and half that, the
/// key the slot names: about as many misses as a core keeps in flight.
const PREFETCH_AHEAD: usize = 16;

/// Asks the cache for the line holding `*at`; a hint only (never faults, even past the end).
#[inline(always)]
pub(crate) fn prefetch<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally and cannot fault, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Interned strings for folding many at a time (each chunk's terms into a corpus's table of every
/// term): the same ids as [`StrInterner`] gives, in order of first appearance, but each batch's
/// lookups are prefetched ahead. Folding into a [`StrInterner`] of 129 thousand terms cost about 120 ns
/// a term, three dependent cache misses in a row (control bytes, slot, key); here the misses of
/// successive terms overlap.
#[derive(Clone, Debug, Default)]
pub struct BatchInterner {
    /// Open addressing with linear probing, at most half full: `0` is empty, otherwise the hash's top 32
    /// bits over `id + 1`. Strings of up to 15 bytes only; longer ones are in `long`.
    slots: Vec<u64>,
    /// Packed key of each id ([`LONG`] for a long string).
    keys: Vec<u128>,
    long: HashTable<u32>,
    texts: Slices<u8>,
    /// Each string's hash and packed key ([`LONG`] if long), for the current batch: kept between
    /// batches (a new one for every chunk's terms cost page faults).
    keyed: Vec<(u64, u128)>,
}

impl BatchInterner {
    /// Calls `found(i, id, new)` for each `strings[i]`, in order: its id, interning it if new (the flag
    /// says so). Equal to calling [`StrInterner::intern`] on each in turn.
    pub fn intern_all(&mut self, strings: &[&str], mut found: impl FnMut(usize, u32, bool)) {
        let mut keyed = std::mem::take(&mut self.keyed);
        keyed.clear();
        keyed.extend(strings.iter().map(|s| match pack_str(s.as_bytes()) {
            Some(key) => (mix(key), key),
            None => (hash_slice(s.as_bytes()), LONG),
        }));
        // Room for every string being new, so that no slot moves within the batch.
        let needed = ((self.keys.len() + strings.len()) * 2).max(16);
        if self.slots.len() < needed {
            self.grow(needed.next_power_of_two());
        }
        let mask = self.slots.len() - 1;
        for (i, (s, &(hash, key))) in strings.iter().zip(&keyed).enumerate() {
            let short_ahead = |at: usize| keyed.get(at).filter(|&&(_, key)| key != LONG).map(|&(hash, _)| hash);
            if let Some(ahead) = short_ahead(i + PREFETCH_AHEAD) {
                prefetch(&self.slots[ahead as usize & mask]);
            }
            if let Some(ahead) = short_ahead(i + PREFETCH_AHEAD / 2) {
                // Its slot should be in cache by now: prefetch the key of its first occupant.
                let slot = self.slots[ahead as usize & mask];
                if slot != 0 {
                    prefetch(&self.keys[(slot as u32 - 1) as usize]);
                }
            }
            let (id, new) = if key == LONG {
                self.intern_long(s.as_bytes(), hash)
            } else {
                self.intern_short(s.as_bytes(), key, hash)
            };
            found(i, id, new);
        }
        self.keyed = keyed;
    }

    fn intern_short(&mut self, bytes: &[u8], key: u128, hash: u64) -> (u32, bool) {
        let (mask, tag) = (self.slots.len() - 1, hash >> 32 << 32);
        let mut at = hash as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                let id = self.push(bytes, key);
                self.slots[at] = slot_of(hash, id);
                return (id, true);
            }
            let id = slot as u32 - 1;
            if slot & !0xFFFF_FFFF == tag && self.keys[id as usize] == key {
                return (id, false);
            }
            at = (at + 1) & mask;
        }
    }

    fn intern_long(&mut self, bytes: &[u8], hash: u64) -> (u32, bool) {
        if let Some(id) = find_long(&self.long, &self.texts, bytes, hash) {
            return (id, false);
        }
        let id = self.push(bytes, LONG);
        insert_long(&mut self.long, &self.texts, id, hash);
        (id, true)
    }

    fn push(&mut self, bytes: &[u8], key: u128) -> u32 {
        self.keys.push(key);
        self.texts.push(bytes)
    }

    /// Rehashes every short string into `n_slots` slots (a power of two).
    fn grow(&mut self, n_slots: usize) {
        self.slots = vec![0; n_slots];
        let mask = n_slots - 1;
        for (id, &key) in self.keys.iter().enumerate() {
            if key == LONG {
                continue;
            }
            let hash = mix(key);
            let mut at = hash as usize & mask;
            while self.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot_of(hash, id as u32);
        }
    }

    /// The UTF-8 bytes behind an id.
    pub fn resolve_bytes(&self, id: u32) -> &[u8] {
        self.texts.get(id)
    }

    /// The string behind an id.
    pub fn resolve(&self, id: u32) -> &str {
        self.texts.str(id)
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// True when nothing is interned.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn interner_agrees_with_a_naive_map(words in prop::collection::vec("[a-c]{0,3}|[a-c]{14,17}|[é😀]{0,6}", 0..200)) {
            let mut interner = StrInterner::default();
            let mut naive: Vec<String> = Vec::new();
            for w in &words {
                let (id, new) = interner.intern(w);
                let expected = naive.iter().position(|n| n == w);
                prop_assert_eq!(new, expected.is_none());
                if expected.is_none() { naive.push(w.clone()); }
                prop_assert_eq!(id as usize, naive.iter().position(|n| n == w).unwrap());
                prop_assert_eq!(interner.resolve(id), w.as_str());
                prop_assert_eq!(interner.get(w), Some(id));
            }
            prop_assert_eq!(interner.len(), naive.len());
        }

        #[test]
        fn batches_agree_with_one_at_a_time(batches in prop::collection::vec(prop::collection::vec("[a-c]{0,3}|[a-c]{14,17}|[é😀]{0,6}", 0..60), 0..8)) {
            let (mut batched, mut single) = (BatchInterner::default(), StrInterner::default());
            for batch in &batches {
                let strings: Vec<&str> = batch.iter().map(String::as_str).collect();
                let mut got = Vec::new();
                batched.intern_all(&strings, |i, id, new| got.push((i, id, new)));
                let expected: Vec<(usize, u32, bool)> =
                    strings.iter().enumerate().map(|(i, s)| { let (id, new) = single.intern(s); (i, id, new) }).collect();
                prop_assert_eq!(got, expected);
            }
            prop_assert_eq!(batched.len(), single.len());
            for id in 0..single.len() as u32 {
                prop_assert_eq!(batched.resolve(id), single.resolve(id));
            }
        }

        #[test]
        fn packing_is_injective(a in "[a-z\u{0}]{0,15}", b in "[a-z\u{0}]{0,15}") {
            prop_assert_eq!(pack_str(a.as_bytes()) == pack_str(b.as_bytes()), a == b);
        }
    }
}
