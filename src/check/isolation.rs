//! Isolation anomalies from transaction histories (filled in below).
