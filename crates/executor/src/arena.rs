//! The memory a request's response tree lives in.
//!
//! Every list, object and decoded string of a request's tree is allocated
//! from one bump arena held by the request's
//! [`Buffers`](crate::value::Buffers): [`bumpalo::Bump`] chunks, handed out
//! upwards in 16 KB blocks (see `BLOCK`). Allocating is a pointer bump, the
//! objects parsed together sit next to each other in memory, and freeing
//! the tree is freeing the arena's chunks: the tree has no drop glue, so
//! nothing walks it at the end of a request. Arenas are reset and reused
//! by the next request on the same thread.
//!
//! [`AVec`] is the tree's vector: a pointer and two `u32`s (16 bytes, where
//! a `Vec` takes 24) into arena memory. It grows by copying into a larger
//! arena block; the old block stays unused until the arena is reset.

use std::alloc::Layout;
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::MutexGuard;

use bumpalo::Bump;

/// How large a fresh arena's first chunk is. Larger trees add chunks; a
/// reset keeps the largest, so a reused arena fits its thread's requests.
/// The arena fills a chunk from its end, so pages a request never reaches
/// are never touched (and never resident). Growing from a small first
/// chunk cost 15 MB more peak RSS under the benchmark's load: the chunks
/// left behind on the way stayed with the allocator.
const FIRST_CHUNK: usize = 256 * 1024;

/// Arenas kept for reuse per thread: about the requests one worker has
/// in flight under heavy load.
const POOLED: usize = 32;

/// How much the arena hands out upwards from one block: `bumpalo` fills
/// its chunks downwards, and the tree walks, which follow allocation order,
/// ran slower over memory laid out downwards (the CPU's next-line
/// prefetcher only looks up).
const BLOCK: usize = 16 * 1024;

thread_local! {
    static POOL: RefCell<Vec<Arena>> = const { RefCell::new(Vec::new()) };
}

/// A request's arena: `bumpalo` chunks, handed out upwards in blocks.
#[derive(Default)]
pub(crate) struct Arena {
    bump: Bump,
    /// The free part of the current block: `[next, next + left)`.
    next: Option<NonNull<u8>>,
    left: usize,
}

// SAFETY: `next` points into a chunk owned by `bump`, which is `Send`; the
// arena is only used through `&mut` (behind the `Buffers` mutex).
unsafe impl Send for Arena {}

impl Arena {
    /// How many bytes the arena has taken from the allocator, and how many
    /// of them are in use (the rest of the current block counts as used).
    pub(crate) fn bytes(&mut self) -> (usize, usize) {
        let total = self.bump.allocated_bytes();
        let used = self.bump.iter_allocated_chunks().map(<[_]>::len).sum();
        (total, used)
    }
}

/// An arena from this thread's pool, or a new one.
pub(crate) fn take_arena() -> Arena {
    POOL.try_with(|p| p.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| Arena {
            bump: Bump::with_capacity(FIRST_CHUNK),
            next: None,
            left: 0,
        })
}

/// Resets `arena` and keeps it for another request on this thread.
pub(crate) fn return_arena(mut arena: Arena) {
    arena.bump.reset();
    arena.next = None;
    arena.left = 0;
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOLED {
            p.push(arena);
        }
    });
}

/// The right to allocate in a request's arena, held while the tree is
/// built or changed (see [`Buffers::alloc`](crate::value::Buffers::alloc)).
/// What it allocates lives as long as the `Buffers` (`'a`).
pub struct Alloc<'a> {
    arena: MutexGuard<'a, Arena>,
}

impl<'a> Alloc<'a> {
    pub(crate) fn new(arena: MutexGuard<'a, Arena>) -> Self {
        Alloc { arena }
    }

    /// Room for `n` values of `T`, uninitialised, in the current block
    /// (upwards), in a new block, or straight from `bumpalo` when large.
    fn array<T>(&mut self, n: usize) -> NonNull<T> {
        let layout = Layout::array::<T>(n).expect("an arena block fits in memory");
        let a = &mut *self.arena;
        if let Some(next) = a.next {
            let pad = next.as_ptr().align_offset(layout.align());
            if pad.saturating_add(layout.size()) <= a.left {
                // SAFETY: `pad + size <= left`, so the result and the new
                // `next` stay inside the current block.
                unsafe {
                    let at = next.as_ptr().add(pad);
                    a.next = Some(NonNull::new_unchecked(at.add(layout.size())));
                    a.left -= pad + layout.size();
                    return NonNull::new_unchecked(at).cast();
                }
            }
        }
        if layout.size() > BLOCK / 4 {
            return a.bump.alloc_layout(layout).cast();
        }
        let block = a
            .bump
            .alloc_layout(Layout::from_size_align(BLOCK, 16).expect("the block layout is valid"));
        // SAFETY: `layout.size() <= BLOCK / 4` and the block is 16-aligned,
        // so the value fits at its start (aligns up to 16 are covered).
        unsafe {
            a.next = Some(NonNull::new_unchecked(block.as_ptr().add(layout.size())));
        }
        a.left = BLOCK - layout.size();
        debug_assert!(layout.align() <= 16);
        block.cast()
    }

    /// A copy of `s` in the arena.
    pub fn str(&mut self, s: &str) -> &'a str {
        let ptr = self.array::<u8>(s.len().max(1));
        // SAFETY: the arena gave room for `s.len()` bytes; they are written
        // from a valid `str`, so they are valid UTF-8. The memory does not
        // move, and is not freed or reused until the arena is reset or
        // dropped, which only happens when the `Buffers` that owns it is
        // dropped, after `'a`.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), ptr.as_ptr(), s.len());
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr.as_ptr(), s.len()))
        }
    }
}

/// A vector in a request's arena, for types without drop glue (which the
/// arena never runs). Dereferences to a slice.
pub struct AVec<'a, T> {
    ptr: NonNull<T>,
    len: u32,
    cap: u32,
    _owns: PhantomData<(&'a (), T)>,
}

// SAFETY: an `AVec` owns its items as a `Vec` does; the arena memory they
// sit in is only reached through it.
unsafe impl<T: Send> Send for AVec<'_, T> {}
// SAFETY: as above; shared access only hands out `&T`.
unsafe impl<T: Sync> Sync for AVec<'_, T> {}

impl<'a, T> AVec<'a, T> {
    /// An empty vector (allocates nothing).
    pub const fn new() -> Self {
        const {
            assert!(
                !std::mem::needs_drop::<T>(),
                "arena values are never dropped"
            )
        };
        AVec {
            ptr: NonNull::dangling(),
            len: 0,
            cap: 0,
            _owns: PhantomData,
        }
    }

    /// An empty vector with room for `n` items.
    pub fn with_capacity<'b: 'a>(alloc: &mut Alloc<'b>, n: usize) -> Self {
        let mut v = Self::new();
        assert!(
            n <= u32::MAX as usize,
            "an arena vector holds at most 2^32 items"
        );
        if n > 0 {
            v.ptr = alloc.array(n);
            v.cap = n as u32;
        }
        v
    }

    /// Makes room for `extra` more items.
    #[inline]
    pub fn reserve<'b: 'a>(&mut self, alloc: &mut Alloc<'b>, extra: usize) {
        if (self.cap - self.len) as usize >= extra {
            return;
        }
        self.grow(alloc, self.len as usize + extra);
    }

    /// Makes room for exactly `extra` more items (when what comes is known).
    pub fn reserve_exact<'b: 'a>(&mut self, alloc: &mut Alloc<'b>, extra: usize) {
        if (self.cap - self.len) as usize >= extra {
            return;
        }
        self.grow_to(alloc, self.len as usize + extra);
    }

    #[cold]
    fn grow<'b: 'a>(&mut self, alloc: &mut Alloc<'b>, need: usize) {
        self.grow_to(alloc, need.max(self.cap as usize * 2).max(4));
    }

    fn grow_to<'b: 'a>(&mut self, alloc: &mut Alloc<'b>, cap: usize) {
        assert!(
            cap <= u32::MAX as usize,
            "an arena vector holds at most 2^32 items"
        );
        let ptr = alloc.array::<T>(cap);
        // SAFETY: the new block has room for `cap >= len` items and does not
        // overlap the old one; the old block is abandoned, not read again.
        unsafe {
            std::ptr::copy_nonoverlapping(self.ptr.as_ptr(), ptr.as_ptr(), self.len as usize)
        };
        self.ptr = ptr;
        self.cap = cap as u32;
    }

    /// Adds `v` at the end and returns it, for writing.
    #[inline]
    pub fn push<'b: 'a>(&mut self, alloc: &mut Alloc<'b>, v: T) -> &mut T {
        let dst = self.spare(alloc);
        // SAFETY: `spare` made room at `len`; the length grows only once
        // the item is written.
        unsafe {
            dst.write(v);
            self.len += 1;
            &mut *dst
        }
    }

    /// A pointer to the room for the next item, after making room for it;
    /// the caller writes the item, then calls [`AVec::set_len`].
    #[inline]
    pub(crate) fn spare<'b: 'a>(&mut self, alloc: &mut Alloc<'b>) -> *mut T {
        self.reserve(alloc, 1);
        // SAFETY: in bounds of the block after `reserve`.
        unsafe { self.ptr.as_ptr().add(self.len as usize) }
    }

    /// Sets the length.
    ///
    /// # Safety
    /// The first `len` items must be initialised and `len <= capacity`.
    #[inline]
    pub(crate) unsafe fn set_len(&mut self, len: usize) {
        self.len = len as u32;
    }

    /// Removes the item at `i` and returns it, shifting the rest left.
    pub fn remove(&mut self, i: usize) -> T {
        assert!(i < self.len as usize, "index out of bounds");
        // SAFETY: `i` is in bounds; the item is read out once and its slot
        // overwritten by the shift (the type has no drop glue anyway).
        unsafe {
            let at = self.ptr.as_ptr().add(i);
            let v = at.read();
            std::ptr::copy(at.add(1), at, self.len as usize - i - 1);
            self.len -= 1;
            v
        }
    }

    /// Removes every item (nothing to drop), keeping the room.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl<T> Default for AVec<'_, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Deref for AVec<'_, T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        // SAFETY: the first `len` items are initialised, in one block.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len as usize) }
    }
}

impl<T> DerefMut for AVec<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, and `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len as usize) }
    }
}

impl<T: fmt::Debug> fmt::Debug for AVec<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq> PartialEq for AVec<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<'a, T> IntoIterator for AVec<'a, T> {
    type Item = T;
    type IntoIter = IntoIter<'a, T>;
    fn into_iter(self) -> IntoIter<'a, T> {
        IntoIter { vec: self, next: 0 }
    }
}

/// The items of an [`AVec`], moved out one by one.
pub struct IntoIter<'a, T> {
    vec: AVec<'a, T>,
    next: u32,
}

impl<T> Iterator for IntoIter<'_, T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.next == self.vec.len {
            return None;
        }
        // SAFETY: each initialised item is read out once; the vector is
        // not used otherwise afterwards.
        let v = unsafe { self.vec.ptr.as_ptr().add(self.next as usize).read() };
        self.next += 1;
        Some(v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.vec.len - self.next) as usize;
        (n, Some(n))
    }
}

impl<T> ExactSizeIterator for IntoIter<'_, T> {}
