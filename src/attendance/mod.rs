//! What a run found, as plain values, and the rules that turn faces into attendance: faces
//! linked into tracks with one identity each ([`track`]), the presence rule and the result
//! every report is written from ([`result`]), the faces people can check ([`evidence`]), and a run's result put together from what its ranks
//! found ([`assemble`]).

pub mod assemble;
pub mod evidence;
pub mod observation;
pub mod result;
pub mod track;
