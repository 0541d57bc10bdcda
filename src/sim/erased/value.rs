//! [`AnyValue`]: a message, timer or disk of a node the crate does not
//! know, carried by one engine compiled in the crate.
//!
//! Why not a `Box<dyn Any>`: a message or a timer is usually a few bytes (a
//! small enum), and boxing it costs an allocation when it is sent and a free
//! when it is delivered, on every event. So a value that fits in
//! [`INLINE`] bytes with an alignment of at most 8 is stored inline, next to
//! a pointer to a table of functions made where its type is known (drop,
//! clone, print, label: the vtable `Box<dyn …>` would carry); a larger one is
//! boxed, and the table knows which. Taking the value out is a type check
//! and a copy, with no call at all.
//!
//! The `unsafe` here rests on one invariant, kept by the only two
//! constructors ([`AnyValue::new`] and `clone`): `table` was made for the
//! type `T` whose value `slot` holds (inline if `Fits::<T>::YES`, else as a
//! `Box<T>`), and the value is dropped exactly once, by `Drop` or moved out
//! by `take` (which then forgets the `AnyValue`).

use crate::sim::node::{short_debug, Node};
use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop, MaybeUninit};
use std::ptr;

/// Bytes of a value kept inline (larger values are boxed): room for a
/// message enum of a few integers, which is what nodes send.
pub const INLINE: usize = 16;

/// Storage of a value: inline bytes, or a `Box<T>`'s pointer.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Slot([MaybeUninit<u8>; INLINE]);

impl Slot {
    fn uninit() -> Slot {
        Slot([const { MaybeUninit::uninit() }; INLINE])
    }
}

/// Whether a `T` is stored inline, as a constant (`Fits::<T>::YES`): a
/// cell compiled unoptimised reads it instead of calling functions.
struct Fits<T>(PhantomData<T>);

impl<T> Fits<T> {
    const YES: bool =
        mem::size_of::<T>() <= INLINE && mem::align_of::<T>() <= mem::align_of::<Slot>();
}

/// What the engine does with a value it cannot name: made once per type
/// (and per label rule), in the crate that knows the type.
struct Table {
    /// The `TypeId` of the value's type.
    type_id: fn() -> TypeId,
    /// True if the value is inline in the slot, false if the slot holds a
    /// `Box<T>`.
    inline: bool,
    /// Drops the value in place (`None` for an inline value without drop
    /// glue, the common case: nothing to call).
    drop: Option<unsafe fn(*mut Slot)>,
    /// Writes a clone of the value at `src` into the (empty) slot `dst`.
    clone: unsafe fn(src: *const u8, dst: *mut Slot),
    /// `Clone::clone_from` between two values of the type.
    clone_from: unsafe fn(dst: *mut u8, src: *const u8),
    debug: unsafe fn(*const u8, &mut fmt::Formatter<'_>) -> fmt::Result,
    /// The label in traces: the node's own `Node::label` for messages.
    label: unsafe fn(*const u8) -> String,
}

/// How a value of type `T` is labelled in traces.
pub(crate) trait Labels<T> {
    fn label(v: &T) -> String;
}

/// Messages of node type `N`: `N::label`.
pub(crate) struct MsgOf<N>(PhantomData<N>);
impl<N: Node> Labels<N::Msg> for MsgOf<N> {
    fn label(v: &N::Msg) -> String {
        N::label(v)
    }
}

/// Timers of node type `N`: `N::timer_label`.
pub(crate) struct TimerOf<N>(PhantomData<N>);
impl<N: Node> Labels<N::Timer> for TimerOf<N> {
    fn label(v: &N::Timer) -> String {
        N::timer_label(v)
    }
}

/// Anything else (a disk): its `Debug` form.
pub(crate) struct Plain;
impl<T: fmt::Debug> Labels<T> for Plain {
    fn label(v: &T) -> String {
        short_debug(v)
    }
}

/// The table of type `T` labelled by `L`.
struct TableOf<T, L>(PhantomData<(T, L)>);

impl<T: Clone + fmt::Debug + 'static, L: Labels<T>> TableOf<T, L> {
    const TABLE: Table = Table {
        type_id: TypeId::of::<T>,
        inline: Fits::<T>::YES,
        drop: if Fits::<T>::YES && !mem::needs_drop::<T>() {
            None
        } else {
            Some(drop_value::<T>)
        },
        clone: clone_value::<T>,
        clone_from: clone_from_value::<T>,
        debug: debug_value::<T>,
        label: label_value::<T, L>,
    };
}

/// Stores `v` in a fresh slot (inline or boxed, as `Fits` says).
fn store<T>(v: T) -> Slot {
    let mut slot = Slot::uninit();
    if Fits::<T>::YES {
        // SAFETY: the slot is large and aligned enough for a `T` (`Fits`).
        unsafe { ptr::write(slot.0.as_mut_ptr().cast::<T>(), v) }
    } else {
        let b: *mut T = Box::into_raw(Box::new(v));
        // SAFETY: a slot is large and aligned enough for a pointer.
        unsafe { ptr::write(slot.0.as_mut_ptr().cast::<*mut T>(), b) }
    }
    slot
}

/// # Safety
/// `slot` holds a `T` as `store` left it, not yet dropped.
unsafe fn drop_value<T>(slot: *mut Slot) {
    let p = (*slot).0.as_mut_ptr();
    if Fits::<T>::YES {
        ptr::drop_in_place(p.cast::<T>())
    } else {
        drop(Box::from_raw(ptr::read(p.cast::<*mut T>())))
    }
}

/// # Safety
/// `src` points to a live `T`; `dst` is a slot holding nothing.
unsafe fn clone_value<T: Clone>(src: *const u8, dst: *mut Slot) {
    ptr::write(dst, store((*src.cast::<T>()).clone()))
}

/// # Safety
/// `dst` and `src` point to live `T`s.
unsafe fn clone_from_value<T: Clone>(dst: *mut u8, src: *const u8) {
    (*dst.cast::<T>()).clone_from(&*src.cast::<T>())
}

/// # Safety
/// `v` points to a live `T`.
unsafe fn debug_value<T: fmt::Debug>(v: *const u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Debug::fmt(&*v.cast::<T>(), f)
}

/// # Safety
/// `v` points to a live `T`.
unsafe fn label_value<T, L: Labels<T>>(v: *const u8) -> String {
    L::label(&*v.cast::<T>())
}

/// A value of a type the crate does not know (a message, a timer or a disk
/// of a node defined in a notebook cell); see [`crate::sim::erased`]. A
/// value of at most 16 bytes (alignment at most 8) is kept inline, so
/// sending a small message allocates nothing; a larger one is boxed.
pub struct AnyValue {
    table: &'static Table,
    slot: Slot,
    /// Not `Send` nor `Sync`: the value inside may be neither.
    _not_send: PhantomData<*const ()>,
}

impl AnyValue {
    /// `v`, labelled in traces by `L`.
    #[inline]
    pub(crate) fn new<T: Clone + fmt::Debug + 'static, L: Labels<T>>(v: T) -> AnyValue {
        AnyValue {
            table: &TableOf::<T, L>::TABLE,
            slot: store(v),
            _not_send: PhantomData,
        }
    }
    /// A message of node type `N`.
    pub(crate) fn msg<N: Node + 'static>(m: N::Msg) -> AnyValue {
        AnyValue::new::<N::Msg, MsgOf<N>>(m)
    }
    /// A timer of node type `N`.
    pub(crate) fn timer<N: Node + 'static>(t: N::Timer) -> AnyValue {
        AnyValue::new::<N::Timer, TimerOf<N>>(t)
    }
    /// Any other value (a disk).
    pub(crate) fn plain<T: Clone + fmt::Debug + 'static>(v: T) -> AnyValue {
        AnyValue::new::<T, Plain>(v)
    }
    /// Where the value is: in the slot, or behind the box the slot holds.
    #[inline]
    fn ptr(&self) -> *const u8 {
        if self.table.inline {
            self.slot.0.as_ptr().cast()
        } else {
            // SAFETY: a boxed value's slot holds the box's pointer.
            unsafe { ptr::read(self.slot.0.as_ptr().cast::<*const u8>()) }
        }
    }
    /// [`AnyValue::ptr`], for writing.
    #[inline]
    fn ptr_mut(&mut self) -> *mut u8 {
        if self.table.inline {
            self.slot.0.as_mut_ptr().cast()
        } else {
            // SAFETY: as in `ptr`; the box is owned by `self`, borrowed mutably.
            unsafe { ptr::read(self.slot.0.as_ptr().cast::<*mut u8>()) }
        }
    }
    /// True if the value inside is a `T`.
    #[inline]
    pub fn is<T: 'static>(&self) -> bool {
        self.holds(TypeId::of::<T>())
    }
    /// True if the value inside is of type `id`.
    #[inline]
    fn holds(&self, id: TypeId) -> bool {
        (self.table.type_id)() == id
    }
    /// The value inside, if it is a `T`.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        // SAFETY: the table says the value is a `T`.
        self.is::<T>().then(|| unsafe { &*self.ptr().cast::<T>() })
    }
    /// The value inside, if it is a `T`, for writing.
    pub fn get_mut<T: 'static>(&mut self) -> Option<&mut T> {
        if self.is::<T>() {
            // SAFETY: the table says the value is a `T`; `self` is borrowed
            // mutably for the reference's lifetime.
            Some(unsafe { &mut *self.ptr_mut().cast::<T>() })
        } else {
            None
        }
    }
    /// The value inside, if it is a `T` (otherwise `None`, and the value is
    /// dropped).
    ///
    /// The type check and the unwrapping are `AnyValue::into_slot`, a
    /// plain function compiled in the crate: what a cell compiles
    /// unoptimised for every delivery is one call and a copy.
    #[inline]
    // A `match`, not `?`: unoptimised, `?` is two more calls per delivery.
    #[allow(clippy::question_mark)]
    pub fn take<T: 'static>(self) -> Option<T> {
        let slot = match self.into_slot(TypeId::of::<T>()) {
            Some(slot) => slot,
            None => return None,
        };
        let p = slot.0.as_ptr();
        // SAFETY: the value is a `T`, stored as `store::<T>` left it
        // (`Fits::<T>::YES` is what `store` tested); `into_slot` forgot the
        // `AnyValue`, so the value is moved out exactly once, here.
        unsafe {
            Some(if Fits::<T>::YES {
                ptr::read(p.cast::<T>())
            } else {
                *Box::from_raw(ptr::read(p.cast::<*mut T>()))
            })
        }
    }
    /// The slot, if the value is of type `id`, with the `AnyValue` forgotten
    /// (the caller owns the value inside and must move it out); otherwise
    /// `None`, and the value is dropped.
    fn into_slot(self, id: TypeId) -> Option<Slot> {
        if !self.holds(id) {
            return None;
        }
        Some(ManuallyDrop::new(self).slot)
    }
    /// The label of the value in traces (a message's `Node::label`).
    pub fn label(&self) -> String {
        // SAFETY: the table was made for the value's type.
        unsafe { (self.table.label)(self.ptr()) }
    }
}

impl Drop for AnyValue {
    #[inline]
    fn drop(&mut self) {
        if let Some(drop) = self.table.drop {
            // SAFETY: the slot holds the table's type, dropped only here.
            unsafe { drop(&mut self.slot) }
        }
    }
}

impl Clone for AnyValue {
    fn clone(&self) -> Self {
        let mut slot = Slot::uninit();
        // SAFETY: the table was made for the value's type; `slot` is empty.
        unsafe { (self.table.clone)(self.ptr(), &mut slot) };
        AnyValue {
            table: self.table,
            slot,
            _not_send: PhantomData,
        }
    }
    /// Reuses what `self` holds if it is of the same type
    /// (`Clone::clone_from`): a sync of an erased disk allocates no more
    /// than a sync of the disk itself.
    fn clone_from(&mut self, src: &Self) {
        if self.holds((src.table.type_id)()) {
            // SAFETY: both values are of the type the tables were made for.
            unsafe { (src.table.clone_from)(self.ptr_mut(), src.ptr()) };
            // Same type, same storage: only the label rule may differ.
            self.table = src.table;
        } else {
            *self = src.clone();
        }
    }
}

impl fmt::Debug for AnyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: the table was made for the value's type.
        unsafe { (self.table.debug)(self.ptr(), f) }
    }
}

/// The disk an erased node starts with before the builder gives it its
/// own type's default (never seen by a handler).
impl Default for AnyValue {
    fn default() -> Self {
        AnyValue::plain(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// Counts its drops in a shared cell.
    #[derive(Clone, Debug)]
    struct Counted(Rc<Cell<u32>>, u8);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    /// Too aligned to sit inline.
    #[derive(Clone, Debug, PartialEq)]
    #[repr(align(32))]
    struct Aligned(u64);

    /// Too large to sit inline.
    #[derive(Clone, Debug, PartialEq)]
    struct Large([u64; 5]);

    #[test]
    fn small_values_are_inline_large_or_aligned_ones_boxed() {
        assert!(AnyValue::plain(7u32).table.inline);
        assert!(AnyValue::plain((1u64, 2u64)).table.inline);
        assert!(AnyValue::plain(()).table.inline);
        assert!(!AnyValue::plain(Aligned(1)).table.inline);
        assert!(!AnyValue::plain(Large([1; 5])).table.inline);
        assert!(!AnyValue::plain(String::from("x")).table.inline);
        // Inline and without drop glue: nothing to call on drop.
        assert!(AnyValue::plain(7u32).table.drop.is_none());
    }

    #[test]
    fn values_come_back_out_unchanged_whatever_their_storage() {
        assert_eq!(AnyValue::plain(7u32).take::<u32>(), Some(7));
        assert_eq!(
            AnyValue::plain(Aligned(9)).take::<Aligned>(),
            Some(Aligned(9))
        );
        let a = AnyValue::plain(Aligned(3));
        assert_eq!(
            a.get::<Aligned>()
                .map(|a| a as *const Aligned as usize % 32),
            Some(0)
        );
        assert_eq!(
            AnyValue::plain(Large([4; 5])).take::<Large>(),
            Some(Large([4; 5]))
        );
        let s = AnyValue::plain(String::from("hello"));
        assert_eq!(s.clone().take::<String>().as_deref(), Some("hello"));
        assert_eq!(s.get::<String>().map(String::as_str), Some("hello"));
        assert!(s.is::<String>() && !s.is::<u32>());
        assert_eq!(s.clone().take::<u32>(), None);
        assert_eq!(format!("{s:?}"), "\"hello\"");
        assert_eq!(s.label(), "\"hello\"");
        let mut v = AnyValue::plain(5u8);
        *v.get_mut::<u8>().unwrap() += 1;
        assert_eq!(v.get::<u8>(), Some(&6));
        assert_eq!(v.get_mut::<u16>(), None);
        let mut big = AnyValue::plain(Large([0; 5]));
        big.get_mut::<Large>().unwrap().0[4] = 8;
        assert_eq!(big.take::<Large>(), Some(Large([0, 0, 0, 0, 8])));
    }

    #[test]
    fn every_value_is_dropped_exactly_once() {
        let drops = Rc::new(Cell::new(0));
        let v = || Counted(drops.clone(), 1);
        drop(AnyValue::plain(v()));
        assert_eq!(drops.get(), 1);
        // Taken out: dropped when the taker drops it, not by the AnyValue.
        let taken = AnyValue::plain(v()).take::<Counted>();
        assert_eq!(drops.get(), 1);
        drop(taken);
        assert_eq!(drops.get(), 2);
        // Taken as the wrong type: dropped there.
        assert!(AnyValue::plain(v()).take::<u8>().is_none());
        assert_eq!(drops.get(), 3);
        // Clones drop separately.
        let a = AnyValue::plain(v());
        let b = a.clone();
        drop(a);
        assert_eq!(drops.get(), 4);
        drop(b);
        assert_eq!(drops.get(), 5);
        // Boxed values too: a large value with drop glue.
        let big = AnyValue::plain((v(), [0u64; 4]));
        assert!(!big.table.inline);
        let big2 = big.clone();
        drop(big);
        drop(big2.take::<(Counted, [u64; 4])>());
        assert_eq!(drops.get(), 7);
        // clone_from onto the same type drops the old value (Clone's
        // default clone_from), onto another type replaces it.
        let mut dst = AnyValue::plain(v());
        dst.clone_from(&AnyValue::plain(Counted(drops.clone(), 2)));
        assert_eq!(dst.get::<Counted>().map(|c| c.1), Some(2));
        dst.clone_from(&AnyValue::plain(3u32));
        assert_eq!(dst.get::<u32>(), Some(&3));
        assert_eq!(drops.get(), 10);
    }

    #[test]
    fn clone_from_reuses_the_buffer_of_a_value_of_the_same_type() {
        let mut dst = AnyValue::plain(vec![0u8; 100]);
        let before = dst.get::<Vec<u8>>().unwrap().as_ptr();
        dst.clone_from(&AnyValue::plain(vec![1u8; 50]));
        let after = dst.get::<Vec<u8>>().unwrap();
        assert_eq!((after.as_ptr(), after.len(), after[0]), (before, 50, 1));
    }
}
