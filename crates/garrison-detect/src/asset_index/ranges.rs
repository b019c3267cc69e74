//! Longest-prefix match over CIDR blocks.
//!
//! Two CIDR blocks are either disjoint or one contains the other, so a set
//! of blocks, nested as deeply as it likes, cuts the address space into
//! disjoint intervals, each covered by one most specific block (or none).
//! [`PrefixTable`] keeps the interval starts in a sorted array and the
//! owning block of each interval beside it: a lookup is one binary search
//! (about 15 steps for 10,000 blocks) over a flat array of integers, with
//! no pointer chasing and no hashing. Building it is a sort and one sweep
//! with a stack.
//!
//! The sweep also yields each block's parent (the next larger block that
//! contains it), so that callers can walk from the most specific block
//! outwards.

use std::fmt;

/// "No block": the owner of an interval that no block covers, and the
/// parent of a block at the top level.
pub(crate) const NONE: u32 = u32::MAX;

/// An address as an unsigned integer: `u32` for IPv4, `u128` for IPv6.
pub(crate) trait Key: Copy + Ord + fmt::Debug {
    const ZERO: Self;
    const MAX: Self;
    /// `self + 1`; only called below `MAX`.
    fn succ(self) -> Self;
    /// The first and last address of the block `addr/len` (`len` at most
    /// the address's bits),
    /// host bits ignored.
    fn block(addr: Self, len: u8) -> (Self, Self);
}

impl Key for u32 {
    const ZERO: Self = 0;
    const MAX: Self = Self::MAX;
    fn succ(self) -> Self {
        self.saturating_add(1)
    }
    fn block(addr: Self, len: u8) -> (Self, Self) {
        let host = Self::MAX.checked_shr(u32::from(len)).unwrap_or(0);
        (addr & !host, addr | host)
    }
}

impl Key for u128 {
    const ZERO: Self = 0;
    const MAX: Self = Self::MAX;
    fn succ(self) -> Self {
        self.saturating_add(1)
    }
    fn block(addr: Self, len: u8) -> (Self, Self) {
        let host = Self::MAX.checked_shr(u32::from(len)).unwrap_or(0);
        (addr & !host, addr | host)
    }
}

/// One block to put in a table: first and last address, and the caller's
/// index for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Block<K> {
    pub first: K,
    pub last: K,
    pub index: u32,
}

/// Disjoint intervals, each with its most specific block.
#[derive(Clone)]
pub(crate) struct PrefixTable<K> {
    /// Sorted, strictly increasing; `starts[0] == ZERO`.
    starts: Vec<K>,
    /// `owners[i]` covers `starts[i] ..= starts[i + 1] - 1`.
    owners: Vec<u32>,
}

impl<K: Key> fmt::Debug for PrefixTable<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrefixTable")
            .field("intervals", &self.starts.len())
            .finish()
    }
}

impl<K: Key> PrefixTable<K> {
    /// Builds the table and writes each block's parent into
    /// `parents[block.index]`.
    ///
    /// Blocks must be CIDR blocks (first and last aligned as
    /// [`Key::block`] makes them), sorted by first address, larger first,
    /// then in the order that decides between duplicates: of two equal
    /// blocks the later one is the more specific (and the earlier its
    /// parent).
    pub(crate) fn build(blocks: &[Block<K>], parents: &mut [u32]) -> Self {
        let mut t = Self {
            starts: vec![K::ZERO],
            owners: vec![NONE],
        };
        // The blocks containing the current position, outermost first.
        let mut open: Vec<(K, u32)> = Vec::new();
        for b in blocks {
            // Close the blocks that end before this one starts; after each,
            // the block around it owns the addresses again.
            while let Some(&(last, _)) = open.last() {
                if last >= b.first {
                    break;
                }
                open.pop();
                // `last < b.first <= MAX`, so `last + 1` does not overflow.
                t.push(last.succ(), open.last().map_or(NONE, |&(_, i)| i));
            }
            if let Some(p) = usize::try_from(b.index)
                .ok()
                .and_then(|i| parents.get_mut(i))
            {
                *p = open.last().map_or(NONE, |&(_, i)| i);
            }
            t.push(b.first, b.index);
            open.push((b.last, b.index));
        }
        while let Some((last, _)) = open.pop() {
            if last == K::MAX {
                // Every block still open ends at the top of the space too.
                break;
            }
            t.push(last.succ(), open.last().map_or(NONE, |&(_, i)| i));
        }
        t.starts.shrink_to_fit();
        t.owners.shrink_to_fit();
        t
    }

    /// Starts an interval at `start` owned by `owner`.
    fn push(&mut self, start: K, owner: u32) {
        match (self.starts.last_mut(), self.owners.last_mut()) {
            // Several blocks start (or end) at the same address: the last
            // word is the most specific.
            (Some(s), Some(o)) if *s == start => *o = owner,
            // The same block goes on.
            (Some(_), Some(o)) if *o == owner => {}
            _ => {
                self.starts.push(start);
                self.owners.push(owner);
            }
        }
    }

    /// The index of the most specific block containing `k`.
    pub(crate) fn get(&self, k: K) -> Option<u32> {
        let i = self.starts.partition_point(|&s| s <= k);
        let owner = *self.owners.get(i.checked_sub(1)?)?;
        (owner != NONE).then_some(owner)
    }

    /// How many intervals the blocks cut the space into.
    #[cfg(test)]
    pub(crate) fn intervals(&self) -> usize {
        self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use garrison_core::rng::Rng;

    fn table(blocks: &[(u32, u8)]) -> (PrefixTable<u32>, Vec<Block<u32>>, Vec<u32>) {
        let mut bs: Vec<Block<u32>> = blocks
            .iter()
            .enumerate()
            .map(|(i, &(addr, len))| {
                let (first, last) = u32::block(addr, len);
                Block {
                    first,
                    last,
                    index: u32::try_from(i).expect("few"),
                }
            })
            .collect();
        bs.sort_by_key(|b| (b.first, std::cmp::Reverse(b.last), b.index));
        let mut parents = vec![NONE; bs.len()];
        let t = PrefixTable::build(&bs, &mut parents);
        (t, bs, parents)
    }

    /// The answer by brute force: the smallest block containing `k`, the
    /// latest of equal ones.
    fn brute(bs: &[Block<u32>], k: u32) -> Option<u32> {
        bs.iter()
            .filter(|b| b.first <= k && k <= b.last)
            .max_by_key(|b| (std::cmp::Reverse(b.last - b.first), b.index))
            .map(|b| b.index)
    }

    #[test]
    fn nested_blocks_and_the_edges_of_the_space() {
        let ip = |a: u8, b: u8, c: u8, d: u8| u32::from_be_bytes([a, b, c, d]);
        let (t, bs, parents) = table(&[
            (ip(10, 0, 0, 0), 8),
            (ip(10, 1, 0, 0), 16),
            (ip(10, 1, 2, 0), 24),
            (ip(10, 1, 2, 128), 25),
            (ip(0, 0, 0, 0), 0),
            (ip(255, 255, 255, 255), 32),
        ]);
        assert_eq!(t.get(ip(10, 1, 2, 200)), Some(3));
        assert_eq!(t.get(ip(10, 1, 2, 5)), Some(2));
        assert_eq!(t.get(ip(10, 1, 3, 0)), Some(1));
        assert_eq!(t.get(ip(10, 2, 0, 0)), Some(0));
        assert_eq!(t.get(ip(11, 0, 0, 0)), Some(4), "the default route");
        assert_eq!(t.get(u32::MAX), Some(5));
        assert_eq!(t.get(0), Some(4));
        assert_eq!(parents, [4, 0, 1, 2, NONE, 4]);
        for k in [0, ip(9, 255, 255, 255), ip(10, 1, 2, 127), u32::MAX - 1] {
            assert_eq!(t.get(k), brute(&bs, k));
        }
    }

    #[test]
    fn no_blocks_cover_nothing() {
        let (t, _, _) = table(&[]);
        assert_eq!(t.get(0), None);
        assert_eq!(t.get(u32::MAX), None);
        assert_eq!(t.intervals(), 1);
    }

    #[test]
    fn duplicates_the_later_wins_and_blocks_sharing_an_end() {
        let (t, _, parents) = table(&[(0x0a00_0000, 24), (0x0a00_0000, 24), (0x0a00_0080, 25)]);
        assert_eq!(t.get(0x0a00_0001), Some(1));
        assert_eq!(t.get(0x0a00_00ff), Some(2));
        assert_eq!(t.get(0x0a00_0100), None, "after the shared end, nothing");
        assert_eq!(parents, [NONE, 0, 1]);
    }

    #[test]
    fn random_nested_blocks_match_brute_force() {
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
        for round in 0..200 {
            // Blocks in a small corner of the space so they nest and collide.
            let n = 1 + rng.below(40);
            let blocks: Vec<(u32, u8)> = (0..n)
                .map(|_| {
                    let addr = u32::try_from(rng.below(1 << 12)).expect("small") << 20
                        | u32::try_from(rng.below(1 << 20)).expect("small");
                    let len = u8::try_from(rng.below(33)).expect("small");
                    (addr & 0x0fff_ffff, len)
                })
                .collect();
            let (t, bs, parents) = table(&blocks);
            let mut probes: Vec<u32> = vec![0, u32::MAX];
            for b in &bs {
                probes.extend([
                    b.first,
                    b.last,
                    b.first.wrapping_sub(1),
                    b.last.wrapping_add(1),
                ]);
            }
            probes.extend((0..200).map(|_| u32::try_from(rng.below(1 << 28)).expect("small")));
            for k in probes {
                assert_eq!(t.get(k), brute(&bs, k), "round {round}, {k:#x}, {blocks:?}");
            }
            // A block's parent is the smallest other block containing it
            // (for equal blocks, the one before it).
            for b in &bs {
                let parent = parents[usize::try_from(b.index).expect("small")];
                let want = bs
                    .iter()
                    .filter(|o| {
                        o.first <= b.first
                            && b.last <= o.last
                            && (o.last - o.first > b.last - b.first || o.index < b.index)
                    })
                    .max_by_key(|o| (std::cmp::Reverse(o.last - o.first), o.index))
                    .map_or(NONE, |o| o.index);
                assert_eq!(parent, want, "round {round}, {b:?}");
            }
        }
    }
}
