//! The global allocator: mimalloc, called as C calls it.
//!
//! The `mimalloc` crate's `GlobalAlloc` asks for every block through
//! `mi_malloc_aligned`, whose fast path ends at 1 KiB: a larger block
//! (a growing token list, a file's text) takes the generic aligned path and,
//! unless its size is a power of two, is over-allocated to be aligned by hand.
//! Every mimalloc block is aligned to a machine word, so a layout that asks
//! for no more than that is served by plain `mi_malloc`/`mi_realloc`; only
//! stricter alignments go through the aligned calls.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// Every block mimalloc hands out is aligned to this (its `MI_INTPTR_SIZE`).
const WORD: usize = std::mem::size_of::<usize>();

pub struct Mimalloc;

// SAFETY: mimalloc is a general-purpose, thread-safe allocator; a pointer it
// returns stays valid until given back to `mi_free`/`mi_realloc*`, and every
// block is word-aligned, so layouts aligned to at most a word get what they
// ask for from the unaligned calls and the rest from the aligned ones.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe {
            if layout.align() <= WORD {
                mi::mi_malloc(layout.size()) as *mut u8
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe {
            if layout.align() <= WORD {
                mi::mi_zalloc(layout.size()) as *mut u8
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe {
            if layout.align() <= WORD {
                mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
            } else {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(p: *mut u8, size: usize) {
        for i in 0..size {
            unsafe { *p.add(i) = (i % 251) as u8 }
        }
    }

    /// Blocks of every alignment up to a page, small and large (past
    /// mimalloc's 1 KiB small sizes), come back aligned as asked, keep their
    /// bytes through growing and shrinking, and zeroed blocks are zero.
    #[test]
    fn blocks_are_aligned_and_keep_their_bytes() {
        let a = Mimalloc;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1usize, 3, 8, 24, 100, 1000, 1025, 1536, 5000, 70_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                for new in [size * 3 + 7, size / 2 + 1] {
                    unsafe {
                        let p = a.alloc(layout);
                        assert!(!p.is_null());
                        assert_eq!(p as usize % align, 0, "size {size} align {align}");
                        fill(p, size);
                        let q = a.realloc(p, layout, new);
                        assert!(!q.is_null());
                        assert_eq!(q as usize % align, 0, "{size} -> {new}, align {align}");
                        for i in 0..size.min(new) {
                            assert_eq!(*q.add(i), (i % 251) as u8, "{size} -> {new} at {i}");
                        }
                        a.dealloc(q, Layout::from_size_align(new, align).unwrap());
                    }
                }
                unsafe {
                    let z = a.alloc_zeroed(layout);
                    assert!(!z.is_null());
                    assert_eq!(z as usize % align, 0);
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }
}
