//! [`AnyValue`]: a message, timer or disk of a node the crate does not
//! know, boxed so that one engine, compiled in the crate, carries them all.
//! It clones, prints and labels itself through a small vtable made in the
//! reader's crate (where the concrete type is known).

use crate::sim::node::{short_debug, Node};
use std::any::Any;
use std::fmt;

/// A boxed value of a type the crate does not know (a message, a timer or
/// a disk of a node defined in a notebook cell); see [`crate::sim::erased`].
pub struct AnyValue(Box<dyn Value>);

/// What the engine needs of a boxed value; implemented for the three
/// wrappers below, in the crate that knows the concrete type.
trait Value: 'static {
    fn clone_box(&self) -> Box<dyn Value>;
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    /// The label in traces: the node's own `Node::label` for messages.
    fn label(&self) -> String;
    fn inner(&self) -> &dyn Any;
    fn inner_mut(&mut self) -> &mut dyn Any;
    /// Moves the value into `slot` if `slot` is an `Option` of its type
    /// (no allocation, unlike boxing it as a `dyn Any`).
    fn move_into(self: Box<Self>, slot: &mut dyn Any);
    /// Clones the value into `dst` if `dst` is the same wrapper type,
    /// reusing what `dst` holds (`Clone::clone_from`): a sync of an
    /// erased disk allocates no more than a sync of the disk itself.
    fn clone_to(&self, dst: &mut dyn Value) -> bool;
    fn wrapper_mut(&mut self) -> &mut dyn Any;
}

/// A message of node type `N` (labelled by `N::label`).
struct MsgOf<N: Node>(N::Msg);
/// A timer of node type `N` (labelled by `N::timer_label`).
struct TimerOf<N: Node>(N::Timer);
/// Anything else (a disk), labelled by its `Debug` form.
struct Plain<T>(T);

macro_rules! value_impl {
    ($ty:ident < $p:ident : $bound:path >, $label:expr) => {
        impl<$p: $bound + 'static> Value for $ty<$p> {
            fn clone_box(&self) -> Box<dyn Value> {
                Box::new($ty::<$p>(self.0.clone()))
            }
            fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
            fn label(&self) -> String {
                let label: fn(&Self) -> String = $label;
                label(self)
            }
            fn inner(&self) -> &dyn Any {
                &self.0
            }
            fn inner_mut(&mut self) -> &mut dyn Any {
                &mut self.0
            }
            fn move_into(self: Box<Self>, slot: &mut dyn Any) {
                if let Some(slot) = slot.downcast_mut::<Option<_>>() {
                    *slot = Some(self.0);
                }
            }
            fn clone_to(&self, dst: &mut dyn Value) -> bool {
                match dst.wrapper_mut().downcast_mut::<Self>() {
                    Some(d) => {
                        d.0.clone_from(&self.0);
                        true
                    }
                    None => false,
                }
            }
            fn wrapper_mut(&mut self) -> &mut dyn Any {
                self
            }
        }
    };
}
value_impl!(MsgOf<N: Node>, |v| N::label(&v.0));
value_impl!(TimerOf<N: Node>, |v| N::timer_label(&v.0));

/// A bound for [`Plain`]: what a disk type already is.
trait PlainValue: Clone + fmt::Debug {}
impl<T: Clone + fmt::Debug> PlainValue for T {}
value_impl!(Plain<T: PlainValue>, |v| short_debug(&v.0));

impl AnyValue {
    /// A message of node type `N`.
    pub(crate) fn msg<N: Node + 'static>(m: N::Msg) -> AnyValue {
        AnyValue(Box::new(MsgOf::<N>(m)))
    }
    /// A timer of node type `N`.
    pub(crate) fn timer<N: Node + 'static>(t: N::Timer) -> AnyValue {
        AnyValue(Box::new(TimerOf::<N>(t)))
    }
    /// Any other value (a disk).
    pub(crate) fn plain<T: Clone + fmt::Debug + 'static>(v: T) -> AnyValue {
        AnyValue(Box::new(Plain(v)))
    }
    /// True if the value inside is a `T`.
    pub fn is<T: 'static>(&self) -> bool {
        self.0.inner().is::<T>()
    }
    /// The value inside, if it is a `T`.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.0.inner().downcast_ref()
    }
    /// The value inside, if it is a `T`, for writing.
    pub fn get_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.0.inner_mut().downcast_mut()
    }
    /// The value inside, if it is a `T` (otherwise `None`, and the value is
    /// dropped).
    pub fn take<T: 'static>(self) -> Option<T> {
        let mut slot: Option<T> = None;
        self.0.move_into(&mut slot);
        slot
    }
    /// The label of the value in traces (a message's `Node::label`).
    pub fn label(&self) -> String {
        self.0.label()
    }
}

impl Clone for AnyValue {
    fn clone(&self) -> Self {
        AnyValue(self.0.clone_box())
    }
    fn clone_from(&mut self, src: &Self) {
        if !src.0.clone_to(&mut *self.0) {
            *self = src.clone();
        }
    }
}

impl fmt::Debug for AnyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug(f)
    }
}

/// The disk an erased node starts with before the builder gives it its
/// own type's default (never seen by a handler).
impl Default for AnyValue {
    fn default() -> Self {
        AnyValue::plain(())
    }
}
