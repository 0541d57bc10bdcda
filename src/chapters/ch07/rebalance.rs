//! A cluster that rebalances while it serves requests (see the notebook).
