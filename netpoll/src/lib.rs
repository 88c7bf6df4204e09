//! gosched-netpoll (work in progress).
