//! The indicator index: which threat-intelligence indicators an event's
//! fields match, in memory, for the correlation engine.
//!
//! # What matches what
//!
//! | indicator kind | event fields (ECS) |
//! |---|---|
//! | `ipv4`, `ipv6` (exact), `cidr` (containment) | every field named `*.ip` or `*_ip` (`source.ip`, `destination.ip`, `client.ip`, `server.ip`, `source.nat.ip`, `related.ip`, `dns.resolved_ip`, ...) and the host of a URL that is an address |
//! | `domain` (the name and its parents: `evil.example` matches `a.b.evil.example`) | `dns.question.name`, `url.domain`, `destination.domain`, `source.domain`, `server.domain`, `client.domain`, `tls.client.server_name`, `related.hosts`, and the host of a URL |
//! | `url` (normalised as on import) | `url.full`, `url.original` (a path alone is joined to `url.domain` as `http://host/path`, as HTTP logs give it), `http.request.referrer` |
//! | `md5`, `sha1`, `sha256` | `*.hash.md5`, `*.hash.sha1`, `*.hash.sha256` (`file.hash.*`, `process.hash.*`, `process.parent.hash.*`, `dll.hash.*`, `tls.server.hash.sha1`) |
//! | `email` | `email.from.address`, `email.to.address`, `email.cc.address`, `email.bcc.address`, `email.reply_to.address`, `email.sender.address`, `user.email` and `*.user.email` |
//! | `ja3` | `tls.client.ja3`, `tls.server.ja3s` |
//! | `ja4` | `tls.client.ja4` |
//!
//! Values are compared as the indicator store normalises them (case of
//! domains, hashes and URL hosts ignored, trailing dots dropped); a list
//! value is looked at element by element. A tenant's indicators match only
//! its own events; MSSP-wide ones match every tenant's. One indicator gives
//! at most one hit per event (the first field it matched).
//!
//! # Shape
//!
//! Exact values (addresses as 16 bytes, the rest as their normalised text)
//! are hashed with a per-index random seed into one array of entries sorted
//! by hash, with a directory from the top bits of a hash to the first entry
//! holding them: a lookup is a hash of the value, one directory read and a
//! scan of about one entry, then a byte comparison with the key kept in one
//! shared arena. In front of them a blocked Bloom filter (16 bits an entry,
//! one cache line a value) answers the misses, which are nearly all
//! lookups. Since that cache line is most of a lookup's time, `matches`
//! hashes all of an event's values first, tests them against the filter in
//! one tight loop (the misses overlap), and looks values up one by one only
//! when one passes. CIDRs go into the same flattened interval tables the
//! asset index uses (one binary search per address, then the chain of
//! enclosing blocks). Nothing is allocated unless a hit is found. The index
//! is immutable: the caller builds a new one off the hot path (building 10
//! million takes a few seconds, on every core) and swaps an `Arc`.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;

use garrison_core::event::{Fields, Value};
use garrison_core::indicator::{
    Indicator, IndicatorKind, IndicatorScope, MAX_VALUE_LEN, Tlp, UrlView,
};
use garrison_core::{IndicatorId, TenantId, Timestamp};

use crate::asset_index::ranges::{Block, Key, NONE, PrefixTable};

/// An indicator matched a field of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorHit {
    pub indicator: IndicatorId,
    pub kind: IndicatorKind,
    pub scope: IndicatorScope,
    pub confidence: u8,
    pub tlp: Tlp,
    /// The event field whose value matched (`destination.ip`, ...).
    pub field: String,
}

/// Why an indicator could not be put in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("the value is not a valid {0}")]
    BadValue(IndicatorKind),
    #[error("the index is full (4 GiB of values or 4 billion indicators)")]
    Full,
}

/// Which table a value is looked up in. Hashes share one table (their
/// lengths tell them apart); JA3 has its own, since it is 32 hex digits
/// too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Class {
    Ip = 1,
    Domain = 2,
    Url = 3,
    Hash = 4,
    Email = 5,
    Ja3 = 6,
    Ja4 = 7,
}

const fn class_of(kind: IndicatorKind) -> Option<Class> {
    use IndicatorKind as K;
    match kind {
        K::Ipv4 | K::Ipv6 => Some(Class::Ip),
        K::Cidr => None,
        K::Domain => Some(Class::Domain),
        K::Url => Some(Class::Url),
        K::Md5 | K::Sha1 | K::Sha256 => Some(Class::Hash),
        K::Email => Some(Class::Email),
        K::Ja3 => Some(Class::Ja3),
        K::Ja4 => Some(Class::Ja4),
    }
}

/// `tenant` of an entry for an MSSP-wide indicator.
const MSSP: u32 = u32::MAX;

/// What a hit reports of an indicator, kept small.
#[derive(Debug, Clone, Copy)]
struct Meta {
    id: IndicatorId,
    /// Index into `tenants`, or [`MSSP`].
    tenant: u32,
    kind: u8,
    confidence: u8,
    tlp: u8,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    /// The key's place in the arena.
    off: u32,
    len: u32,
    meta: Meta,
}

/// A CIDR indicator.
#[derive(Debug, Clone, Copy)]
struct Net<K> {
    first: K,
    len: u8,
    meta: Meta,
}

/// One family's CIDR indicators and the table over them.
struct Nets<K> {
    /// Sorted as the table wants; `Block::index` points here.
    nets: Vec<Net<K>>,
    parents: Vec<u32>,
    table: PrefixTable<K>,
}

impl<K: Key> Nets<K> {
    fn build(mut nets: Vec<Net<K>>) -> Self {
        nets.sort_unstable_by_key(|n| (n.first, n.len, n.meta.id));
        let blocks: Vec<Block<K>> = nets
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let (first, last) = K::block(n.first, n.len);
                Block {
                    first,
                    last,
                    index: u32::try_from(i).unwrap_or(NONE),
                }
            })
            .collect();
        let mut parents = vec![NONE; nets.len()];
        let table = PrefixTable::build(&blocks, &mut parents);
        Self {
            nets,
            parents,
            table,
        }
    }

    /// Every block containing `k`, most specific first.
    fn containing(&self, k: K, mut f: impl FnMut(&Meta)) {
        let mut at = self.table.get(k);
        while let Some(i) = at {
            let Some(n) = self.nets.get(i as usize) else {
                return;
            };
            f(&n.meta);
            at = self.parents.get(i as usize).copied().filter(|&p| p != NONE);
        }
    }
}

/// Indicators by value, for matching events. See the module documentation.
pub struct IndicatorIndex {
    seed: u64,
    /// Sorted by hash.
    entries: Vec<Entry>,
    /// `directory[b]` is the first entry whose hash's top `bits` bits are
    /// at least `b`; one more slot at the end holds `entries.len()`.
    directory: Vec<u32>,
    bits: u32,
    /// A blocked Bloom filter over the entries' hashes: most lookups are
    /// misses, and this answers them from one cache line of a structure
    /// small enough to stay in cache (about 16 bits an entry).
    filter: Vec<[u64; 8]>,
    arena: Vec<u8>,
    /// The tenants of tenant-scoped indicators, sorted.
    tenants: Vec<TenantId>,
    v4: Nets<u32>,
    v6: Nets<u128>,
}

impl fmt::Debug for IndicatorIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndicatorIndex")
            .field("values", &self.entries.len())
            .field("cidrs", &(self.v4.nets.len() + self.v6.nets.len()))
            .field("tenants", &self.tenants.len())
            .finish_non_exhaustive()
    }
}

/// Collects indicators one by one (so a caller can stream them from the
/// store page by page) and then builds the index.
pub struct IndicatorIndexBuilder {
    now: Timestamp,
    seed: u64,
    entries: Vec<Entry>,
    arena: Vec<u8>,
    tenant_ids: HashMap<TenantId, u32>,
    v4: Vec<Net<u32>>,
    v6: Vec<Net<u128>>,
    skipped: usize,
}

impl fmt::Debug for IndicatorIndexBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndicatorIndexBuilder")
            .field("values", &self.entries.len())
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

impl IndicatorIndexBuilder {
    /// A builder for an index of the indicators live at `now`.
    #[must_use]
    pub fn new(now: Timestamp) -> Self {
        // A random seed per index, so that nobody can pick values whose
        // hashes collide (std's RandomState reads the OS once per thread).
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Self {
            now,
            seed,
            entries: Vec::new(),
            arena: Vec::new(),
            tenant_ids: HashMap::new(),
            v4: Vec::new(),
            v6: Vec::new(),
            skipped: 0,
        }
    }

    /// Reserves room for `n` more indicators whose values average
    /// `value_len` bytes.
    pub fn reserve(&mut self, n: usize, value_len: usize) {
        self.entries.reserve(n);
        self.arena.reserve(n.saturating_mul(value_len));
    }

    /// Adds an indicator if it is live at the builder's time (not revoked,
    /// within its validity). Returns whether it was added; one whose value
    /// does not read as its kind is skipped and counted.
    pub fn push(&mut self, i: &Indicator) -> bool {
        if !i.is_live(self.now) {
            return false;
        }
        match self.push_parts(i.id, i.scope, i.kind, &i.value, i.confidence, i.tlp) {
            Ok(()) => true,
            Err(_) => {
                self.skipped += 1;
                false
            }
        }
    }

    /// Adds one indicator from its parts, whatever its validity (the
    /// caller has chosen the live set). `value` is normalised as
    /// [`IndicatorKind::normalize`] makes it.
    ///
    /// # Errors
    /// When the value does not read as its kind, or the index is full.
    pub fn push_parts(
        &mut self,
        id: IndicatorId,
        scope: IndicatorScope,
        kind: IndicatorKind,
        value: &str,
        confidence: u8,
        tlp: Tlp,
    ) -> Result<(), IndexError> {
        let tenant = match scope {
            IndicatorScope::Mssp => MSSP,
            IndicatorScope::Tenant(t) => {
                let next = u32::try_from(self.tenant_ids.len()).map_err(|_| IndexError::Full)?;
                *self.tenant_ids.entry(t).or_insert(next)
            }
        };
        let meta = Meta {
            id,
            tenant,
            kind: kind_code(kind),
            confidence: confidence.min(100),
            tlp: tlp_code(tlp),
        };
        let bad = || IndexError::BadValue(kind);
        let Some(class) = class_of(kind) else {
            let (addr, len) = value.split_once('/').ok_or_else(bad)?;
            let len: u8 = len.parse().map_err(|_| bad())?;
            match addr.parse::<IpAddr>().map_err(|_| bad())? {
                IpAddr::V4(a) if len <= 32 => {
                    let (first, _) = u32::block(u32::from(a), len);
                    self.v4.push(Net { first, len, meta });
                }
                IpAddr::V6(a) if len <= 128 => {
                    let (first, _) = u128::block(u128::from(a), len);
                    self.v6.push(Net { first, len, meta });
                }
                _ => return Err(bad()),
            }
            return Ok(());
        };
        let off = u32::try_from(self.arena.len()).map_err(|_| IndexError::Full)?;
        let key_len = match class {
            Class::Ip => {
                let ip: IpAddr = value.parse().map_err(|_| bad())?;
                self.arena.extend_from_slice(&ip_key(ip));
                16
            }
            Class::Url => {
                self.arena.extend_from_slice(value.as_bytes());
                value.len()
            }
            Class::Email => {
                let (local, domain) = value.rsplit_once('@').ok_or_else(bad)?;
                self.arena.extend_from_slice(local.as_bytes());
                self.arena.push(b'@');
                self.arena
                    .extend(domain.bytes().map(|b| b.to_ascii_lowercase()));
                value.len()
            }
            _ => {
                self.arena
                    .extend(value.bytes().map(|b| b.to_ascii_lowercase()));
                value.len()
            }
        };
        let len = u32::try_from(key_len).map_err(|_| IndexError::Full)?;
        let end = off as usize + key_len;
        let hash = hash_key(self.seed, class, &self.arena[off as usize..end]);
        self.entries.push(Entry {
            hash,
            off,
            len,
            meta,
        });
        Ok(())
    }

    /// How many indicators were skipped because their value did not read
    /// as their kind.
    #[must_use]
    pub const fn skipped(&self) -> usize {
        self.skipped
    }

    /// Builds the index.
    #[must_use]
    pub fn finish(self) -> IndicatorIndex {
        let Self {
            seed,
            mut entries,
            mut arena,
            tenant_ids,
            v4,
            v6,
            ..
        } = self;
        // Tenants sorted, so a lookup finds the event's with a binary
        // search; entries renumbered to match.
        let mut tenants: Vec<(TenantId, u32)> = tenant_ids.into_iter().collect();
        tenants.sort_unstable();
        let mut renumber = vec![0_u32; tenants.len()];
        for (new, &(_, old)) in tenants.iter().enumerate() {
            renumber[old as usize] = u32::try_from(new).unwrap_or(MSSP);
        }
        let fix = |m: &mut Meta| {
            if m.tenant != MSSP {
                m.tenant = renumber[m.tenant as usize];
            }
        };
        let bits = directory_bits(entries.len());
        sort_by_hash(&mut entries, bits);
        for e in &mut entries {
            fix(&mut e.meta);
        }
        let mut v4 = v4;
        let mut v6 = v6;
        v4.iter_mut().for_each(|n| fix(&mut n.meta));
        v6.iter_mut().for_each(|n| fix(&mut n.meta));
        let mut directory = Vec::with_capacity((1_usize << bits) + 1);
        let mut at = 0_usize;
        for b in 0..(1_u64 << bits) {
            while at < entries.len() && bucket(entries[at].hash, bits) < b {
                at += 1;
            }
            directory.push(u32::try_from(at).unwrap_or(u32::MAX));
        }
        directory.push(u32::try_from(entries.len()).unwrap_or(u32::MAX));
        arena.shrink_to_fit();
        entries.shrink_to_fit();
        let mut filter = vec![[0_u64; 8]; filter_blocks(entries.len())];
        let mask = filter.len() - 1;
        for e in &entries {
            let (block, words) = filter_bits(e.hash, mask);
            for (w, bit) in filter[block].iter_mut().zip(words) {
                *w |= bit;
            }
        }
        IndicatorIndex {
            seed,
            entries,
            directory,
            bits,
            filter,
            arena,
            tenants: tenants.into_iter().map(|(t, _)| t).collect(),
            v4: Nets::build(v4),
            v6: Nets::build(v6),
        }
    }
}

/// Sorts entries by hash: on several threads when there are many, each
/// sorting the entries of a range of top bits (so no merge is needed).
fn sort_by_hash(entries: &mut Vec<Entry>, bits: u32) {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads < 2 || entries.len() < 1_000_000 {
        entries.sort_unstable_by_key(|e| e.hash);
        return;
    }
    // Partition by the top bits into as many parts as threads (a counting
    // pass, then one move of each entry), then sort the parts in parallel.
    let parts = threads.next_power_of_two();
    let part_bits = parts.trailing_zeros().min(bits);
    let part_of = |h: u64| -> usize {
        if part_bits == 0 {
            0
        } else {
            (h >> (64 - part_bits)) as usize
        }
    };
    let mut counts = vec![0_usize; 1 << part_bits];
    for e in entries.iter() {
        counts[part_of(e.hash)] += 1;
    }
    let mut buckets: Vec<Vec<Entry>> = counts.iter().map(|&c| Vec::with_capacity(c)).collect();
    for e in entries.drain(..) {
        buckets[part_of(e.hash)].push(e);
    }
    std::thread::scope(|s| {
        for b in &mut buckets {
            s.spawn(move || b.sort_unstable_by_key(|e| e.hash));
        }
    });
    for b in buckets {
        entries.extend(b);
    }
}

/// Directory size: about one bucket per entry (at least 2^4).
fn directory_bits(n: usize) -> u32 {
    n.next_power_of_two().trailing_zeros().clamp(4, 31)
}

/// Filter size in 512-bit blocks: a power of two, at least 16 bits an
/// entry.
fn filter_blocks(n: usize) -> usize {
    (n.saturating_mul(16) / 512).next_power_of_two().max(1)
}

/// The filter block of a hash and the bits to set (or test) in its eight
/// words: one bit in each word, positions from a remix of the hash (so they
/// are independent of the block index and the directory bucket).
fn filter_bits(hash: u64, mask: usize) -> (usize, [u64; 8]) {
    let block = (hash as usize) & mask;
    let mut r = hash.wrapping_mul(K2).rotate_left(29) ^ hash;
    let mut words = [0_u64; 8];
    for w in &mut words {
        *w = 1 << (r & 63);
        r >>= 6;
        if r == 0 {
            r = hash.wrapping_mul(K1);
        }
    }
    (block, words)
}

const fn bucket(hash: u64, bits: u32) -> u64 {
    hash >> (64 - bits)
}

fn kind_code(k: IndicatorKind) -> u8 {
    IndicatorKind::ALL
        .iter()
        .position(|&x| x == k)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(0)
}

fn tlp_code(t: Tlp) -> u8 {
    Tlp::ALL
        .iter()
        .position(|&x| x == t)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(0)
}

/// An address as the 16 bytes of its IPv6 form (IPv4 mapped).
fn ip_key(ip: IpAddr) -> [u8; 16] {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

const K1: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;

/// A fast seeded hash of a class and a key (8 bytes at a time, then the
/// MurmurHash3 finaliser).
fn hash_key(seed: u64, class: Class, key: &[u8]) -> u64 {
    let mut h = seed ^ (class as u64).wrapping_mul(K1) ^ (key.len() as u64).wrapping_mul(K2);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0_u8; 8];
        w.copy_from_slice(c);
        let k = u64::from_le_bytes(w)
            .wrapping_mul(K1)
            .rotate_left(31)
            .wrapping_mul(K2);
        h = (h ^ k)
            .rotate_left(27)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0_u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        let k = u64::from_le_bytes(w)
            .wrapping_mul(K1)
            .rotate_left(31)
            .wrapping_mul(K2);
        h ^= k;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A stack buffer to build a normalised value in.
struct Buf<const N: usize> {
    b: [u8; N],
    len: usize,
    overflow: bool,
}

impl<const N: usize> Buf<N> {
    const fn new() -> Self {
        Self {
            b: [0; N],
            len: 0,
            overflow: false,
        }
    }

    fn put(&mut self, s: &[u8], lower: bool) {
        let end = self.len + s.len();
        if end > N {
            self.overflow = true;
            return;
        }
        let dst = &mut self.b[self.len..end];
        dst.copy_from_slice(s);
        if lower {
            dst.make_ascii_lowercase();
        }
        self.len = end;
    }

    fn get(&self) -> Option<&[u8]> {
        (!self.overflow).then(|| &self.b[..self.len])
    }
}

/// What kind of value a field holds, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldClass {
    Ip,
    Domain,
    Url,
    /// `url.original`: absolute, or a path to join to `url.domain`.
    UrlOriginal,
    Hash,
    Email,
    Ja3,
    Ja4,
}

fn field_class(name: &str) -> Option<FieldClass> {
    let b = name.as_bytes();
    let last = *b.last()?;
    match last {
        b'p' if name.ends_with(".ip") || name.ends_with("_ip") => Some(FieldClass::Ip),
        b'5' | b'1' | b'6' if name.contains("hash.") => {
            (name.ends_with(".md5") || name.ends_with(".sha1") || name.ends_with(".sha256"))
                .then_some(FieldClass::Hash)
        }
        b'e' | b'n' | b's' => match name {
            "dns.question.name"
            | "url.domain"
            | "destination.domain"
            | "source.domain"
            | "server.domain"
            | "client.domain"
            | "tls.client.server_name"
            | "related.hosts" => Some(FieldClass::Domain),
            "email.from.address"
            | "email.to.address"
            | "email.cc.address"
            | "email.bcc.address"
            | "email.reply_to.address"
            | "email.sender.address" => Some(FieldClass::Email),
            "tls.server.ja3s" => Some(FieldClass::Ja3),
            _ => None,
        },
        b'l' if name == "user.email" || name.ends_with(".user.email") => Some(FieldClass::Email),
        b'l' if name == "url.full" => Some(FieldClass::Url),
        b'l' if name == "url.original" => Some(FieldClass::UrlOriginal),
        b'r' if name == "http.request.referrer" => Some(FieldClass::Url),
        b'3' if name == "tls.client.ja3" => Some(FieldClass::Ja3),
        b'4' if name == "tls.client.ja4" => Some(FieldClass::Ja4),
        _ => None,
    }
}

/// What the walk over an event's fields hands its values to.
trait Sink<'f> {
    /// A normalised value of a class, from the field `name`.
    fn key(&mut self, class: Class, key: &[u8], name: &'f str);
    /// An address (looked up exactly, as a key, and in the CIDRs).
    fn ip(&mut self, ip: IpAddr, name: &'f str);
}

/// How many values and addresses of one event the first pass remembers
/// (an event with more is looked up value by value).
const TOUCHED: usize = 32;
const TOUCHED_IPS: usize = 8;

/// The first pass: the hashes of an event's values and its addresses.
struct Touch<'f> {
    seed: u64,
    hashes: [u64; TOUCHED],
    n: usize,
    ips: [Option<(IpAddr, &'f str)>; TOUCHED_IPS],
    ip_n: usize,
    overflow: bool,
}

impl<'f> Sink<'f> for Touch<'f> {
    fn key(&mut self, class: Class, key: &[u8], _: &'f str) {
        match self.hashes.get_mut(self.n) {
            Some(slot) => {
                *slot = hash_key(self.seed, class, key);
                self.n += 1;
            }
            None => self.overflow = true,
        }
    }

    fn ip(&mut self, ip: IpAddr, name: &'f str) {
        let ip = ip.to_canonical();
        self.key(Class::Ip, &ip_key(ip), name);
        match self.ips.get_mut(self.ip_n) {
            Some(slot) => {
                *slot = Some((ip, name));
                self.ip_n += 1;
            }
            None => self.overflow = true,
        }
    }
}

/// The second pass: the lookups of one event, its tenant and where its
/// hits start.
struct Probe<'i, 'o> {
    index: &'i IndicatorIndex,
    tenant: Option<u32>,
    out: &'o mut Vec<IndicatorHit>,
    start: usize,
}

impl<'f> Sink<'f> for Probe<'_, '_> {
    fn key(&mut self, class: Class, key: &[u8], name: &'f str) {
        let index = self.index;
        index.lookup(class, key, name, self);
    }

    fn ip(&mut self, ip: IpAddr, name: &'f str) {
        let index = self.index;
        let ip = ip.to_canonical();
        index.lookup(Class::Ip, &ip_key(ip), name, self);
        self.nets(ip, name);
    }
}

impl Probe<'_, '_> {
    /// The CIDR indicators containing a (canonical) address.
    fn nets(&mut self, ip: IpAddr, name: &str) {
        let index = self.index;
        match ip {
            IpAddr::V4(a) => {
                if !index.v4.nets.is_empty() {
                    index
                        .v4
                        .containing(u32::from(a), |m| index.hit(m, name, self));
                }
            }
            IpAddr::V6(a) => {
                if !index.v6.nets.is_empty() {
                    index
                        .v6
                        .containing(u128::from(a), |m| index.hit(m, name, self));
                }
            }
        }
    }
}

/// Hands every indicator-bearing value of `fields` to `sink`, normalised.
fn walk<'f>(fields: &'f Fields, sink: &mut impl Sink<'f>) {
    let mut relative_url = None;
    for (name, value) in fields.iter() {
        let Some(class) = field_class(name) else {
            continue;
        };
        if class == FieldClass::UrlOriginal
            && let Value::Str(s) = value
            && s.starts_with('/')
        {
            relative_url = Some(s.as_str());
            continue;
        }
        match value {
            Value::List(items) => {
                for v in items {
                    walk_value(class, name, v, sink);
                }
            }
            v => walk_value(class, name, v, sink),
        }
    }
    if let Some(path) = relative_url
        && let Some(host) = fields.get_str("url.domain")
    {
        let mut buf = Buf::<MAX_VALUE_LEN>::new();
        buf.put(b"http://", false);
        buf.put(host.trim().trim_end_matches('.').as_bytes(), true);
        buf.put(path.split('#').next().unwrap_or("").as_bytes(), false);
        if let Some(key) = buf.get() {
            sink.key(Class::Url, key, "url.original");
        }
    }
}

fn walk_value<'f>(class: FieldClass, name: &'f str, v: &Value, sink: &mut impl Sink<'f>) {
    match (class, v) {
        (FieldClass::Ip, Value::Ip(ip)) => sink.ip(*ip, name),
        (FieldClass::Ip, Value::Str(s)) => {
            if let Ok(ip) = s.trim().parse::<IpAddr>() {
                sink.ip(ip, name);
            }
        }
        (_, Value::Str(s)) => walk_text(class, name, s, sink),
        _ => {}
    }
}

fn walk_text<'f>(class: FieldClass, name: &'f str, s: &str, sink: &mut impl Sink<'f>) {
    let s = s.trim();
    match class {
        FieldClass::Domain => walk_domain(s, name, sink),
        FieldClass::Url | FieldClass::UrlOriginal => {
            let Ok(url) = UrlView::parse(s) else { return };
            let mut buf = Buf::<MAX_VALUE_LEN>::new();
            url.write_to(|piece, lower| buf.put(piece.as_bytes(), lower));
            if let Some(key) = buf.get() {
                sink.key(Class::Url, key, name);
            }
            // The host: an address or a domain.
            let host = url.host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = host.parse::<IpAddr>() {
                sink.ip(ip, name);
            } else {
                walk_domain(host, name, sink);
            }
        }
        FieldClass::Hash => {
            if matches!(s.len(), 32 | 40 | 64) {
                let mut buf = Buf::<64>::new();
                buf.put(s.as_bytes(), true);
                if let Some(key) = buf.get() {
                    sink.key(Class::Hash, key, name);
                }
            }
        }
        FieldClass::Ja3 => {
            if s.len() == 32 {
                let mut buf = Buf::<32>::new();
                buf.put(s.as_bytes(), true);
                if let Some(key) = buf.get() {
                    sink.key(Class::Ja3, key, name);
                }
            }
        }
        FieldClass::Ja4 => {
            if s.len() == 36 {
                let mut buf = Buf::<36>::new();
                buf.put(s.as_bytes(), true);
                if let Some(key) = buf.get() {
                    sink.key(Class::Ja4, key, name);
                }
            }
        }
        FieldClass::Email => {
            let s = s
                .strip_prefix('<')
                .and_then(|x| x.strip_suffix('>'))
                .unwrap_or(s);
            let Some((local, domain)) = s.rsplit_once('@') else {
                return;
            };
            let mut buf = Buf::<320>::new();
            buf.put(local.as_bytes(), false);
            buf.put(b"@", false);
            buf.put(domain.trim_end_matches('.').as_bytes(), true);
            if let Some(key) = buf.get() {
                sink.key(Class::Email, key, name);
            }
        }
        FieldClass::Ip => {}
    }
}

/// The domain and each parent with at least two labels.
fn walk_domain<'f>(s: &str, name: &'f str, sink: &mut impl Sink<'f>) {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() || s.len() > 253 {
        return;
    }
    let mut buf = Buf::<253>::new();
    buf.put(s.as_bytes(), true);
    let Some(d) = buf.get() else { return };
    sink.key(Class::Domain, d, name);
    let mut rest = d;
    while let Some(dot) = rest.iter().position(|&b| b == b'.') {
        rest = &rest[dot + 1..];
        if !rest.contains(&b'.') {
            break;
        }
        sink.key(Class::Domain, rest, name);
    }
}

impl IndicatorIndex {
    /// The index of the indicators live at `now` among `indicators`.
    #[must_use]
    pub fn build<'a>(indicators: impl IntoIterator<Item = &'a Indicator>, now: Timestamp) -> Self {
        let mut b = IndicatorIndexBuilder::new(now);
        for i in indicators {
            b.push(i);
        }
        b.finish()
    }

    /// An index with nothing in it.
    #[must_use]
    pub fn empty() -> Self {
        IndicatorIndexBuilder::new(Timestamp::from_millis(0)).finish()
    }

    /// How many indicators it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len() + self.v4.nets.len() + self.v6.nets.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The heap memory it holds, in bytes (for metrics and sizing).
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        self.entries.capacity() * size_of::<Entry>()
            + self.directory.capacity() * size_of::<u32>()
            + self.filter.capacity() * size_of::<[u64; 8]>()
            + self.arena.capacity()
            + self.tenants.capacity() * size_of::<TenantId>()
            + self.v4.nets.capacity() * size_of::<Net<u32>>()
            + self.v6.nets.capacity() * size_of::<Net<u128>>()
            + (self.v4.parents.capacity() + self.v6.parents.capacity()) * size_of::<u32>()
    }

    /// Appends to `out` a hit for each indicator that one of `fields`
    /// matches, for an event of `tenant` (its own indicators and the
    /// MSSP-wide ones). Allocates nothing when nothing matches. Returns
    /// how many hits were added.
    pub fn matches(&self, tenant: TenantId, fields: &Fields, out: &mut Vec<IndicatorHit>) -> usize {
        if self.is_empty() {
            return 0;
        }
        // First pass: the hash of every value and the addresses. Then the
        // filter blocks of all the hashes in a tight loop, so that their
        // cache misses (most of a lookup's time) overlap. Only when a hash
        // passes the filter (an indicator, or one false positive in
        // thousands) are the values looked up one by one; otherwise only
        // the addresses are, in the CIDR tables.
        let mut touch = Touch {
            seed: self.seed,
            hashes: [0; TOUCHED],
            n: 0,
            ips: [None; TOUCHED_IPS],
            ip_n: 0,
            overflow: false,
        };
        walk(fields, &mut touch);
        let mut probe = Probe {
            index: self,
            tenant: self
                .tenants
                .binary_search(&tenant)
                .ok()
                .and_then(|i| u32::try_from(i).ok()),
            start: out.len(),
            out,
        };
        let mask = self.filter.len() - 1;
        let maybe = touch.hashes[..touch.n].iter().any(|&h| {
            let (block, words) = filter_bits(h, mask);
            self.filter
                .get(block)
                .is_some_and(|bits| bits.iter().zip(words).all(|(have, want)| have & want != 0))
        });
        if touch.overflow || maybe {
            walk(fields, &mut probe);
        } else if !self.v4.nets.is_empty() || !self.v6.nets.is_empty() {
            for (ip, name) in touch.ips[..touch.ip_n].iter().flatten() {
                probe.nets(*ip, name);
            }
        }
        probe.out.len() - probe.start
    }

    fn lookup(&self, class: Class, key: &[u8], name: &str, p: &mut Probe<'_, '_>) {
        if self.entries.is_empty() {
            return;
        }
        let h = hash_key(self.seed, class, key);
        let (block, words) = filter_bits(h, self.filter.len() - 1);
        let Some(bits) = self.filter.get(block) else {
            return;
        };
        if bits.iter().zip(words).any(|(have, want)| have & want == 0) {
            return;
        }
        let b = bucket(h, self.bits) as usize;
        let (Some(&from), Some(&to)) = (self.directory.get(b), self.directory.get(b + 1)) else {
            return;
        };
        let Some(candidates) = self.entries.get(from as usize..to as usize) else {
            return;
        };
        for e in candidates {
            if e.hash != h {
                continue;
            }
            let stored = self
                .arena
                .get(e.off as usize..e.off as usize + e.len as usize);
            if stored == Some(key) && class_of(kind_of(e.meta.kind)) == Some(class) {
                self.hit(&e.meta, name, p);
            }
        }
    }

    fn hit(&self, m: &Meta, name: &str, p: &mut Probe<'_, '_>) {
        if m.tenant != MSSP && Some(m.tenant) != p.tenant {
            return;
        }
        if p.out[p.start..].iter().any(|h| h.indicator == m.id) {
            return;
        }
        let scope = if m.tenant == MSSP {
            IndicatorScope::Mssp
        } else {
            match self.tenants.get(m.tenant as usize) {
                Some(&t) => IndicatorScope::Tenant(t),
                None => return,
            }
        };
        p.out.push(IndicatorHit {
            indicator: m.id,
            kind: kind_of(m.kind),
            scope,
            confidence: m.confidence,
            tlp: Tlp::ALL.get(m.tlp as usize).copied().unwrap_or(Tlp::Amber),
            field: name.to_owned(),
        });
    }
}

fn kind_of(code: u8) -> IndicatorKind {
    IndicatorKind::ALL
        .get(code as usize)
        .copied()
        .unwrap_or(IndicatorKind::Ipv4)
}

// The caller shares one index between pipeline workers.
const _: fn() = || {
    fn check<T: Send + Sync>() {}
    check::<IndicatorIndex>();
};

#[cfg(test)]
mod tests;
