-- Rate-limit and lockout counters shared by every instance: one row per key (an endpoint and
-- an address, an account, or an account at an address), counting hits within a window.
CREATE TABLE auth_throttle (
    key TEXT PRIMARY KEY NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits INTEGER NOT NULL,
    locked_until TIMESTAMP
);
CREATE INDEX auth_throttle_window ON auth_throttle (window_start);
